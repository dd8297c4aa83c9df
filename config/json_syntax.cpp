#include "config/json_syntax.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace nexus::config {

namespace {

/// Takes every SAX event and keeps nothing but the first parse error.
struct error_finder : nlohmann::json_sax<nlohmann::json> {
  bool failed = false;
  std::size_t position = 0;
  std::string message;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& token,
                   const nlohmann::detail::exception& ex) override {
    // A number too large for a double (1e999) is JSON all the same: not a
    // syntax error (nlohmann reports it as out_of_range.406).
    if (ex.id == 406)
      return false;
    failed = true;
    position = pos;
    // "[json.exception.parse_error.101] parse error at line 1, column 3:
    // syntax error while parsing value - invalid literal; last read: 'tx'"
    std::string what = ex.what();
    if (auto colon = what.find(": "); colon != std::string::npos)
      what = what.substr(colon + 2);
    // What was read comes from the input: no raw control or non-ASCII bytes
    // go into a message that ends up on a terminal.
    static const char hex[] = "0123456789abcdef";
    for (unsigned char c : what) {
      if (c < 0x20 || c >= 0x7f) {
        message += "\\x";
        message += hex[c >> 4];
        message += hex[c & 15];
      } else {
        message += static_cast<char>(c);
      }
    }
    (void)token;
    return false;
  }
};

} // namespace

namespace {

void locate(std::string_view text, std::size_t offset, json_syntax_error& out) {
  out.offset = std::min(text.size(), offset);
  out.line = 1;
  out.column = 1;
  for (std::size_t i = 0; i < out.offset; ++i) {
    if (text[i] == '\n') {
      ++out.line;
      out.column = 1;
    } else {
      ++out.column;
    }
  }
}

} // namespace

bool find_json_syntax_error(std::string_view text, json_syntax_error& out) {
  // nlohmann's reader takes a NUL byte for the end of the input; JSON allows
  // none anywhere (not even in a string, unescaped). Up to the first one:
  auto nul = text.find('\0');
  auto head = text.substr(0, nul);
  error_finder finder;
  // Strict: no comments; the whole input must be one value.
  nlohmann::json::sax_parse(head.begin(), head.end(), &finder, nlohmann::json::input_format_t::json,
                            true, false);
  // nlohmann counts the offending character as read: its position is one
  // past the byte where the token went wrong.
  auto at = finder.position > 0 ? finder.position - 1 : 0;
  if (finder.failed && (nul == std::string_view::npos || at < nul)) {
    locate(text, at, out);
    out.message = std::move(finder.message);
    return true;
  }
  if (nul == std::string_view::npos)
    return false;
  locate(text, nul, out);
  out.message = "a NUL byte, which JSON allows nowhere";
  return true;
}

} // namespace nexus::config
