#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "config/json_tree.hpp"
#include "runtime/logging.hpp"
#include "tests/temp_dir.hpp"

namespace runtime_logging_test {

using namespace nexus;
using nexus::config::json_node;

namespace {

/// Values that try to break a line or forge another: quotes, backslashes,
/// newlines with a fake object, control characters, ANSI escapes, invalid
/// UTF-8 (a lone continuation byte, a truncated sequence, an encoded
/// surrogate, an overlong slash), a NUL and a line separator.
std::vector<std::string> hostile_values() {
  return {
    "plain",
    R"(say "hi")",
    R"(back\slash\)",
    "two\nlines\n{\"level\":\"error\",\"msg\":\"forged\"}",
    "cr\rtab\tbell\x07 unit\x1f del\x7f",
    "\x1b[31mred\x1b[0m \x1b]0;title\x07",
    "lone \x80 continuation",
    "cut \xe2\x82",
    "surrogate \xed\xa0\x80",
    "overlong \xc0\xaf slash",
    std::string{"nul\0inside", 10},
    "separator \xe2\x80\xa8 here",
    "caf\xc3\xa9 \xf0\x9f\x9a\x80",
  };
}

bool valid_utf8(const std::string& s) {
  std::string err;
  config::json_parse_error perr;
  std::string quoted = "\"";
  for (char c : s) // only the UTF-8 matters here; escape the rest
    quoted += (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') ? ' ' : c;
  quoted += "\"";
  return config::parse_json_tree(quoted, perr).has_value();
}

std::string field(const json_node& line, std::string_view key) {
  auto* m = line.find(key);
  BOOST_REQUIRE_MESSAGE(m != nullptr, "no key " << key);
  BOOST_REQUIRE(m->value.type == json_node::kind::string);
  return m->value.text;
}

/// Restores the default logger a test replaced.
struct logger_guard {
  std::shared_ptr<spdlog::logger> saved = spdlog::default_logger();
  ~logger_guard() { spdlog::set_default_logger(saved); }
};

/// Collects formatted lines; each write advances a fake clock by `cost_us`.
class costly_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit costly_sink(std::int64_t& clock) : clock_(clock) {}
  std::vector<std::string> lines;
  std::int64_t cost_us = 0;

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t out;
    formatter_->format(msg, out);
    lines.emplace_back(out.data(), out.size());
    clock_ += cost_us;
  }
  void flush_() override {}

private:
  std::int64_t& clock_;
};

} // namespace

BOOST_AUTO_TEST_SUITE(logging)

BOOST_AUTO_TEST_CASE(every_line_parses_and_no_value_forges_a_line) {
  logger_guard guard;
  test::temp_dir dir;
  config::logging_settings settings;
  settings.file = "log/nexus.jsonl";
  settings.console_level = "off";
  std::string error;
  BOOST_REQUIRE_MESSAGE(runtime::setup_logging(settings, dir.path(), error), error);
  auto values = hostile_values();
  for (auto& v : values) {
    runtime::log_context ctx{v, v, v, 3};
    ctx.resource = v;
    ctx.status = v;
    runtime::log(spdlog::level::warn, ctx, "value {}", v);
  }
  runtime::log(spdlog::level::debug, runtime::log_context{"below-the-level"}, "not written");
  spdlog::default_logger()->flush();

  std::ifstream in{dir.file("log/nexus.jsonl"), std::ios::binary};
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  BOOST_REQUIRE_EQUAL(lines.size(), values.size()); // none split, none forged, none lost
  std::regex rfc3339{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    config::json_parse_error perr;
    auto line = config::parse_json_tree(lines[i], perr);
    BOOST_REQUIRE_MESSAGE(line, "line " << i + 1 << " does not parse: " << perr.message);
    BOOST_CHECK(std::regex_match(field(*line, "ts"), rfc3339));
    BOOST_CHECK_EQUAL(field(*line, "level"), "warning");
    BOOST_CHECK_EQUAL(field(*line, "logger"), "nexus");
    BOOST_CHECK_EQUAL(field(*line, "node"), runtime::log_node());
    auto* attempt = line->find("attempt");
    BOOST_REQUIRE(attempt != nullptr);
    BOOST_CHECK_EQUAL(attempt->value.unsigned_integer + static_cast<std::uint64_t>(attempt->value.integer), 3u);
    auto& v = values[i];
    for (auto key : {"correlation_id", "saga", "step", "resource", "status"}) {
      auto got = field(*line, key);
      if (valid_utf8(v))
        BOOST_CHECK_MESSAGE(got == v, key << " of line " << i + 1 << " changed");
      else
        BOOST_CHECK_MESSAGE(got.find("\xef\xbf\xbd") != std::string::npos,
                            key << " of line " << i + 1 << " has no replacement character");
    }
    if (valid_utf8(v))
      BOOST_CHECK(field(*line, "msg") == "value " + v);
  }
}

BOOST_AUTO_TEST_CASE(a_line_about_nothing_has_no_saga_fields) {
  std::int64_t clock = 0;
  auto sink = std::make_shared<costly_sink>(clock);
  sink->set_formatter(runtime::make_json_formatter());
  spdlog::logger logger{"nexus", sink};
  logger.info("run started");
  runtime::log_context ctx = runtime::log_context::of_resource("payments");
  auto* outer = std::exchange(runtime::detail::current_log_context, &ctx);
  logger.warn("breaker closed -> open");
  runtime::detail::current_log_context = outer;
  BOOST_REQUIRE_EQUAL(sink->lines.size(), 2u);
  config::json_parse_error perr;
  auto plain = config::parse_json_tree(sink->lines[0], perr);
  BOOST_REQUIRE(plain);
  for (auto key : {"correlation_id", "saga", "step", "attempt", "resource", "status"})
    BOOST_CHECK_MESSAGE(plain->find(key) == nullptr, key << " in a line about nothing");
  auto breaker = config::parse_json_tree(sink->lines[1], perr);
  BOOST_REQUIRE(breaker);
  BOOST_CHECK_EQUAL(field(*breaker, "resource"), "payments");
  BOOST_CHECK(breaker->find("correlation_id") == nullptr);
}

BOOST_AUTO_TEST_CASE(the_console_shows_control_characters_escaped) {
  std::int64_t clock = 0;
  auto sink = std::make_shared<costly_sink>(clock);
  sink->set_formatter(runtime::make_console_formatter());
  spdlog::logger logger{"nexus", sink};
  runtime::log_context ctx{"ord-1", "order", "charge\x1b[2J", 2};
  auto* outer = std::exchange(runtime::detail::current_log_context, &ctx);
  logger.info("stderr: \x1b[31mred\x1b[0m\nsecond line \xc2\x9b" "2J csi \xff bad caf\xc3\xa9");
  runtime::detail::current_log_context = outer;
  BOOST_REQUIRE_EQUAL(sink->lines.size(), 1u);
  auto& line = sink->lines[0];
  BOOST_REQUIRE(!line.empty() && line.back() == '\n');
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    BOOST_CHECK_MESSAGE(static_cast<unsigned char>(line[i]) >= 0x20 && line[i] != 0x7F
                          && line[i] != '\xff' && line.compare(i, 2, "\xc2\x9b") != 0,
                        "raw control character or bad byte at " << i);
  BOOST_CHECK_NE(line.find("[ord-1 order/charge\\x1b[2J #2] "), std::string::npos);
  BOOST_CHECK_NE(line.find("\\x1b[31mred\\x1b[0m\\x0asecond line \\xc2\\x9b2J csi \\xff bad "
                           "caf\xc3\xa9"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_slow_log_slows_the_writer_and_says_so_without_dropping_a_line) {
  std::int64_t clock = 0;
  auto inner = std::make_shared<costly_sink>(clock);
  auto watched = std::make_shared<runtime::watched_sink>(
    inner, [&clock] { return clock; }, 200'000, 10'000'000);
  watched->set_formatter(runtime::make_json_formatter());
  spdlog::logger logger{"nexus", watched};
  logger.info("fast");
  BOOST_CHECK_EQUAL(inner->lines.size(), 1u);
  inner->cost_us = 300'000; // the disk falls behind
  for (int i = 0; i < 5; ++i)
    logger.info("slow {}", i);
  // Every line written, and one warning for all five (one per 10 s at most).
  BOOST_REQUIRE_EQUAL(inner->lines.size(), 7u);
  BOOST_CHECK_EQUAL(watched->slow_writes(), 5u);
  BOOST_CHECK_NE(inner->lines[2].find("\"level\":\"warning\""), std::string::npos);
  BOOST_CHECK_NE(inner->lines[2].find("writing the log is slow: a line took 300 ms"),
                 std::string::npos);
  BOOST_CHECK_NE(inner->lines[2].find("no line is dropped"), std::string::npos);
  clock += 10'000'000; // after the quiet period, a slow write warns again
  logger.info("slow again");
  BOOST_REQUIRE_EQUAL(inner->lines.size(), 9u);
  BOOST_CHECK_NE(inner->lines[8].find("(6 slow writes so far)"), std::string::npos);
  inner->cost_us = 0;
  logger.info("fast again");
  BOOST_CHECK_EQUAL(inner->lines.size(), 10u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_logging_test
