#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "config/input_line.hpp"
#include "config/workflow_loader.hpp"

namespace config_json_conformance_test {

// Every file of JSONTestSuite's test_parsing (tests/data/JSONTestSuite) through
// the two readers of outside JSON: the workflow loader and the input-line
// reader. `y_` files are JSON: each is judged as a workflow or an input line
// (and refused as one, mostly), never as bad JSON. `n_` files are not: each
// is refused as invalid JSON with the place named. `i_` files may go either
// way. None may crash or hang (a sanitizer build would catch the first, the
// ctest timeout the second).

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path suite_dir() {
  return fs::path{NEXUS_SOURCE_DIR} / "tests" / "data" / "JSONTestSuite" / "test_parsing";
}

struct verdict {
  std::string workflow; ///< The loader's first error, or "" if it took the file.
  std::string input;    ///< The input-line reader's error, or "".
};

verdict judge(const std::string& name, const std::string& text) {
  verdict v;
  auto loaded = nexus::config::parse_workflow(text, name);
  if (!loaded.ok())
    v.workflow = loaded.errors.front().to_string();
  nexus::config::saga_request req;
  std::string error;
  if (!nexus::config::parse_input_line(text, req, error))
    v.input = error;
  return v;
}

bool says_invalid_json(const std::string& error) {
  return error.find("invalid JSON") != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_conformance)

BOOST_AUTO_TEST_CASE(the_suite_is_there) {
  std::size_t files = 0;
  for (auto& entry : fs::directory_iterator(suite_dir()))
    files += entry.path().extension() == ".json";
  BOOST_TEST(files == 318u);
}

BOOST_AUTO_TEST_CASE(every_y_file_is_taken_as_json_and_judged_as_a_workflow_or_an_input_line) {
  std::size_t seen = 0;
  for (auto& entry : fs::directory_iterator(suite_dir())) {
    auto name = entry.path().filename().string();
    if (name.rfind("y_", 0) != 0)
      continue;
    ++seen;
    auto v = judge(name, slurp(entry.path()));
    BOOST_TEST(!says_invalid_json(v.workflow), name << ": " << v.workflow);
    BOOST_TEST(!says_invalid_json(v.input), name << ": " << v.input);
    // None of them is a workflow (not one defines a saga) or an input line.
    BOOST_TEST(!v.workflow.empty(), name);
    BOOST_TEST(!v.input.empty(), name);
  }
  BOOST_TEST(seen == 95u);
}

BOOST_AUTO_TEST_CASE(every_n_file_is_refused_as_invalid_json_at_a_named_place) {
  std::size_t seen = 0;
  for (auto& entry : fs::directory_iterator(suite_dir())) {
    auto name = entry.path().filename().string();
    if (name.rfind("n_", 0) != 0)
      continue;
    ++seen;
    auto v = judge(name, slurp(entry.path()));
    // `<file>:<line>: invalid JSON at column <n>: ...`
    BOOST_TEST(v.workflow.rfind(name + ":", 0) == 0, name << ": " << v.workflow);
    BOOST_TEST(v.workflow.find(": invalid JSON at column ") != std::string::npos,
               name << ": " << v.workflow);
    BOOST_TEST(v.input.rfind("invalid JSON at column ", 0) == 0, name << ": " << v.input);
    // Whatever the file holds, the message holds no raw control bytes.
    for (unsigned char c : v.workflow + v.input)
      BOOST_TEST_REQUIRE((c >= 0x20 && c < 0x7f), name << ": a raw byte " << int(c));
  }
  BOOST_TEST(seen == 188u);
}

BOOST_AUTO_TEST_CASE(every_i_file_is_taken_or_refused_without_a_crash) {
  std::size_t seen = 0;
  for (auto& entry : fs::directory_iterator(suite_dir())) {
    auto name = entry.path().filename().string();
    if (name.rfind("i_", 0) != 0)
      continue;
    ++seen;
    auto v = judge(name, slurp(entry.path()));
    BOOST_TEST(!v.workflow.empty(), name); // none is a workflow
    BOOST_TEST(!v.input.empty(), name);
  }
  BOOST_TEST(seen == 35u);
}

BOOST_AUTO_TEST_CASE(nesting_past_the_limits_is_refused_cleanly) {
  // Workflow files: 64 levels. Input lines: 1,024 (simdjson's limit), the
  // line's own object included.
  auto nested = [](std::size_t depth) {
    std::string s = R"({"sagas": )";
    for (std::size_t i = 0; i < depth; ++i)
      s += R"({"a": )";
    s += "1";
    s.append(depth, '}');
    return s + "}";
  };
  auto deep = nexus::config::parse_workflow(nested(100), "deep.json");
  BOOST_REQUIRE(!deep.ok());
  BOOST_TEST(deep.errors.front().message.find("nesting deeper than 64 levels") != std::string::npos,
             deep.errors.front().to_string());
  nexus::config::saga_request req;
  std::string error;
  std::string line = R"({"saga": "s", "input": )" + std::string(2000, '[') + std::string(2000, ']') + "}";
  BOOST_TEST(!nexus::config::parse_input_line(line, req, error));
  BOOST_TEST(!error.empty());
  BOOST_TEST(error.find("invalid JSON at column") == std::string::npos, error); // it is JSON
  // The README's figure, exactly: 1,024 levels counting the line's own
  // object, so an input of 1,023 (its object and 1,022 arrays) is taken.
  auto line_of_depth = [](std::size_t levels) {
    auto arrays = levels - 2; // the line's object and the input object
    return R"({"saga": "s", "input": {"x": )" + std::string(arrays, '[') + std::string(arrays, ']')
           + "}}";
  };
  BOOST_TEST(nexus::config::parse_input_line(line_of_depth(1024), req, error), error);
  BOOST_TEST(!nexus::config::parse_input_line(line_of_depth(1025), req, error));
  BOOST_TEST(error.find("too deep") != std::string::npos, error);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace config_json_conformance_test
