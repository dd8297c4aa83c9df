#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nexus::config {

struct json_member;

/// A parsed JSON value that remembers the line it starts on, so that the
/// workflow loader can name the line of every bad key. Small documents only:
/// the event log and input lines use simdjson directly.
struct json_node {
  enum class kind : std::uint8_t { null, boolean, integer, unsigned_integer, real, string, array, object };

  kind type = kind::null;
  std::uint32_t line = 0;
  bool boolean = false;
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double real = 0;
  std::string text;
  std::vector<json_node> items;
  std::vector<json_member> members;

  bool is_number() const {
    return type == kind::integer || type == kind::unsigned_integer || type == kind::real;
  }

  /// The member called `key`, or null.
  const json_member* find(std::string_view key) const;
};

struct json_member {
  std::string key;
  std::uint32_t line = 0;
  json_node value;
};

/// Where and why a document failed to parse.
struct json_parse_error {
  std::uint32_t line = 0;   ///< 0 when the parser could not tell.
  std::uint32_t column = 0; ///< In bytes; 0 when the parser could not tell.
  std::string message;
  /// The text is not JSON. False for valid JSON refused all the same: too
  /// deep, a duplicate key, a number out of range.
  bool syntax = true;
};

/// Parses `text` strictly (RFC 8259: one value, nothing after it). Duplicate
/// keys in one object are refused: which one wins is not portable.
/// Nesting deeper than `max_depth` is refused.
std::optional<json_node> parse_json_tree(std::string_view text, json_parse_error& err,
                                         std::size_t max_depth = 64);

/// Human name of a node's type: "a string", "an object", ...
std::string_view describe(json_node::kind k);

} // namespace nexus::config
