#pragma once

#include <cstdint>
#include <string>
#include <cstddef>
#include <string_view>

namespace nexus::config {

/// Length of the valid UTF-8 sequence starting at `s[i]`, or 0 if invalid
/// (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

/// Appends `text` to `out` as a quoted JSON string. Quotes, backslashes and
/// control characters are escaped, and so is every byte sequence that is not
/// valid UTF-8 (as U+FFFD), so the result always parses and never carries a raw
/// newline or terminal escape into a log line.
void append_json_string(std::string& out, std::string_view text);

/// Builds one JSON object field by field, without a DOM. Values given as raw
/// JSON must already be valid JSON.
class json_object_writer {
public:
  explicit json_object_writer(std::string& out);

  json_object_writer& field(std::string_view key, std::string_view value);
  json_object_writer& field(std::string_view key, const char* value) {
    return field(key, std::string_view{value});
  }
  json_object_writer& field(std::string_view key, std::uint64_t value);
  json_object_writer& field(std::string_view key, std::int64_t value);
  json_object_writer& field(std::string_view key, int value) {
    return field(key, static_cast<std::int64_t>(value));
  }
  json_object_writer& field(std::string_view key, double value);
  json_object_writer& field(std::string_view key, bool value);
  json_object_writer& raw_field(std::string_view key, std::string_view json);

  /// Closes the object; the writer must not be used afterwards.
  void finish();

private:
  void key(std::string_view k);

  std::string& out_;
  bool first_ = true;
};

} // namespace nexus::config
