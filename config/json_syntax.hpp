#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nexus::config {

/// Where a text stops being JSON, and why.
struct json_syntax_error {
  std::size_t offset = 0;  ///< Byte offset of the offending token.
  std::uint32_t line = 1;  ///< 1-based.
  std::uint32_t column = 1; ///< 1-based, in bytes.
  std::string message;     ///< What the parser expected there.
};

/// Finds the first place where `text` is not strict JSON (RFC 8259: one
/// value, nothing but whitespace after it). simdjson, which parses every
/// document here, says what is wrong but not where; this second pass, run
/// only over a document simdjson refused, says where. False if it finds
/// nothing wrong (then the refusal was simdjson's own limit, such as its
/// nesting depth or a number it cannot represent).
bool find_json_syntax_error(std::string_view text, json_syntax_error& out);

/// `text` without a leading UTF-8 byte-order mark. RFC 8259 (8.1) lets a
/// parser ignore one, and editors on Windows write it: files are read past it.
inline std::string_view without_bom(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
}

} // namespace nexus::config
