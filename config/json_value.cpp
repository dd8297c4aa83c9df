#include "config/json_value.hpp"

#include <simdjson.h>

namespace nexus::config {

bool compact_json(std::string_view text, std::string& out, std::string& error) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  // parse() copies into its own padded buffer: `text` needs no padding.
  if (auto e = parser.parse(text.data(), text.size()).get(doc)) {
    error = simdjson::error_message(e);
    return false;
  }
  out = simdjson::minify(doc);
  return true;
}

std::string simdjson_version() {
  return std::to_string(simdjson::SIMDJSON_VERSION_MAJOR) + "."
         + std::to_string(simdjson::SIMDJSON_VERSION_MINOR) + "."
         + std::to_string(simdjson::SIMDJSON_VERSION_REVISION);
}

} // namespace nexus::config
