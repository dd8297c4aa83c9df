// The one check of a start request, whatever it came from.
#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"
#include "runtime/start_request.hpp"

namespace runtime_start_request_test {

using namespace nexus;
using runtime::request_problem;

namespace {

config::workflow one_saga() {
  auto r = config::parse_workflow(
    R"({"sagas": {"order": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})", "wf.json");
  BOOST_REQUIRE(r.ok());
  return *r.value;
}

config::saga_request request(std::string saga, std::string cid, std::string input) {
  config::saga_request req;
  req.saga = std::move(saga);
  req.correlation_id = std::move(cid);
  req.input = std::move(input);
  return req;
}

} // namespace

BOOST_AUTO_TEST_SUITE(start_request_check)

BOOST_AUTO_TEST_CASE(a_good_request_passes_with_its_input_in_stored_form) {
  auto wf = one_saga();
  auto req = request("order", "ord-1", "{ \"sku\" :\n \"A-7\" }");
  std::string why;
  BOOST_TEST((runtime::check_start(wf, req, why) == request_problem::none));
  BOOST_TEST(req.input == R"({"sku":"A-7"})");
  BOOST_TEST(req.input_compact);
}

BOOST_AUTO_TEST_CASE(each_problem_is_named) {
  auto wf = one_saga();
  std::string why;
  auto unknown = request("refund", "r-1", "{}");
  BOOST_TEST((runtime::check_start(wf, unknown, why) == request_problem::unknown_saga));
  BOOST_TEST(why == "input names saga \"refund\", which the workflow does not define");
  auto bad_id = request("order", "bad id", "{}");
  BOOST_TEST((runtime::check_start(wf, bad_id, why) == request_problem::bad_id));
  BOOST_TEST(why.find("has a character outside [A-Za-z0-9._:-]") != std::string::npos, why);
  for (auto* input : {"[1, 2]", "{\"a\":", "7"}) {
    auto bad_input = request("order", "o-2", input);
    BOOST_TEST((runtime::check_start(wf, bad_input, why) == request_problem::bad_input), input);
    BOOST_TEST(why.rfind("input: ", 0) == 0u, why);
  }
}

BOOST_AUTO_TEST_CASE(an_input_line_is_not_parsed_twice) {
  auto wf = one_saga();
  config::saga_request req;
  std::string why;
  BOOST_REQUIRE(config::parse_input_line(R"({"saga": "order", "correlation_id": "l-1", "input": {"a": 1}})",
                                         req, why));
  BOOST_TEST(req.input_compact);
  BOOST_TEST((runtime::check_start(wf, req, why) == request_problem::none));
  BOOST_TEST(req.input == R"({"a":1})");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_start_request_test
