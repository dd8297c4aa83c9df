#pragma once

#include <string>
#include <string_view>

namespace nexus::config {

/// Checks that `text` is exactly one JSON value (RFC 8259) and gives it
/// minified in `out`: no line breaks, so that it can be stored inside an
/// event that is one line of JSON. False, with `error` saying why, if not.
bool compact_json(std::string_view text, std::string& out, std::string& error);

/// The version of simdjson in use, such as "3.1.1".
std::string simdjson_version();

} // namespace nexus::config
