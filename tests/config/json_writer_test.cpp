#include <boost/test/unit_test.hpp>

#include "config/json_writer.hpp"

namespace config_json_writer_test {

using nexus::config::append_json_string;

namespace {

std::string as_json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(json_writer)

BOOST_AUTO_TEST_CASE(quotes_backslashes_and_newlines_are_escaped) {
  BOOST_TEST(as_json_string("a\"b\\c\nd") == R"("a\"b\\c\nd")");
}

BOOST_AUTO_TEST_CASE(control_characters_and_ansi_escapes_become_unicode_escapes) {
  BOOST_TEST(as_json_string(std::string{"\x1b[31mred\0", 9}) == R"("\u001b[31mred\u0000")");
}

BOOST_AUTO_TEST_CASE(valid_utf8_passes_and_invalid_bytes_become_replacement_characters) {
  BOOST_TEST(as_json_string("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  BOOST_TEST(as_json_string("a\xff" "b") == R"("a\ufffdb")");
  BOOST_TEST(as_json_string("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")"); // a UTF-16 surrogate
  BOOST_TEST(as_json_string("\xc0\xaf") == R"("\ufffd\ufffd")");            // overlong '/'
}

// Plain runs are scanned eight bytes at a time: every byte that needs
// escaping is found wherever it falls in a word, or after the last whole one.
BOOST_AUTO_TEST_CASE(a_byte_to_escape_is_found_at_every_position_of_a_long_string) {
  const std::pair<std::string, std::string> specials[] = {
    {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {std::string(1, '\x1f'), "\\u001f"},
    {"\x7f", "\\u007f"}, {"\xff", "\\ufffd"}, {"\xc3\xa9", "\xc3\xa9"}, {" ", " "}, {"~", "~"}};
  for (std::size_t len = 0; len <= 24; ++len)
    for (std::size_t at = 0; at <= len; ++at)
      for (auto& [raw, escaped] : specials) {
        std::string in = std::string(at, 'a') + raw + std::string(len - at, 'b');
        std::string want = "\"" + std::string(at, 'a') + escaped + std::string(len - at, 'b') + "\"";
        BOOST_TEST(as_json_string(in) == want, "length " << len << ", at " << at);
      }
}

BOOST_AUTO_TEST_CASE(object_writer_separates_fields_and_keeps_raw_json) {
  std::string out;
  nexus::config::json_object_writer w{out};
  w.field("s", "x").field("n", std::uint64_t{3}).field("b", true).raw_field("o", R"({"k":1})");
  w.finish();
  BOOST_TEST(out == R"({"s":"x","n":3,"b":true,"o":{"k":1}})");
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace config_json_writer_test
