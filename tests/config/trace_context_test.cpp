#include <boost/test/unit_test.hpp>

#include <set>
#include <string>

#include "config/input_line.hpp"
#include "config/trace_context.hpp"

namespace config_trace_context_test {

using namespace nexus::config;

namespace {

// The example of the W3C Trace Context recommendation, section 3.2.
constexpr const char* w3c_example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

} // namespace

BOOST_AUTO_TEST_SUITE(trace_context_format)

BOOST_AUTO_TEST_CASE(the_recommendations_example_reads_and_writes_back) {
  auto t = parse_traceparent(w3c_example);
  BOOST_REQUIRE(t);
  BOOST_TEST(t->trace_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  BOOST_TEST(span_hex(t->span) == "00f067aa0ba902b7");
  BOOST_TEST(t->flags == 1);
  BOOST_TEST(t->traceparent(t->span) == w3c_example);
  BOOST_TEST(t->traceparent(0x1122334455667788ull)
             == "00-4bf92f3577b34da6a3ce929d0e0e4736-1122334455667788-01");
}

BOOST_AUTO_TEST_CASE(malformed_values_are_refused) {
  for (const char* bad : {
         "",                                                          // empty
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
         "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // version 00 with more
         "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace ID
         "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent ID
         "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
         "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
         "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",   // separators
         "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // not hex
       })
    BOOST_TEST(!parse_traceparent(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_later_version_may_carry_more_fields) {
  auto t = parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later");
  BOOST_REQUIRE(t);
  BOOST_TEST(t->trace_hex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  BOOST_TEST(!parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

BOOST_AUTO_TEST_CASE(an_attempts_span_is_the_same_for_the_same_attempt_and_differs_otherwise) {
  std::uint64_t saga = 0x00f067aa0ba902b7ull;
  BOOST_TEST(attempt_span(saga, "charge", 1, false) == attempt_span(saga, "charge", 1, false));
  std::set<std::uint64_t> seen;
  for (const char* step : {"charge", "ship", "reserve"})
    for (std::uint32_t attempt = 1; attempt <= 5; ++attempt)
      for (bool comp : {false, true})
        seen.insert(attempt_span(saga, step, attempt, comp));
  seen.insert(attempt_span(saga + 1, "charge", 1, false));
  BOOST_TEST(seen.size() == 3u * 5 * 2 + 1);
  BOOST_TEST(seen.count(0) == 0u);
}

BOOST_AUTO_TEST_CASE(new_ids_are_valid_and_differ) {
  std::set<std::string> traces;
  std::set<std::uint64_t> spans;
  for (int i = 0; i < 100; ++i) {
    trace_context t;
    t.trace = new_trace_id();
    BOOST_TEST(t.valid());
    traces.insert(t.trace_hex());
    spans.insert(new_span_id());
  }
  BOOST_TEST(traces.size() == 100u);
  BOOST_TEST(spans.size() == 100u);
  BOOST_TEST(spans.count(0) == 0u);
}

BOOST_AUTO_TEST_CASE(an_input_line_carries_a_checked_trace_context) {
  saga_request r;
  std::string error;
  BOOST_TEST(parse_input_line(std::string{R"({"saga":"order","traceparent":")"} + w3c_example
                                + R"(","tracestate":"congo=t61rcWkgMzE"})",
                              r, error),
             error);
  BOOST_TEST(r.traceparent == w3c_example);
  BOOST_TEST(r.tracestate == "congo=t61rcWkgMzE");

  BOOST_TEST(!parse_input_line(R"({"saga":"order","traceparent":"00-abc"})", r, error));
  BOOST_TEST(error.find("traceparent: \"00-abc\" is not a W3C traceparent") == 0u, error);
  BOOST_TEST(!parse_input_line(R"({"saga":"order","tracestate":"a=b"})", r, error));
  BOOST_TEST(error == "tracestate: given without a traceparent");
  BOOST_TEST(!parse_input_line(std::string{R"({"signal":"paid","correlation_id":"o-1","traceparent":")"}
                                 + w3c_example + "\"}",
                               r, error));
  BOOST_TEST(error.find("a signal line has") == 0u, error);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace config_trace_context_test
