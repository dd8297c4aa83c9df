#include "app/versions.hpp"

#include <caf/config.hpp>
#include <curl/curl.h>
#include <spdlog/version.h>

#include "config/json_value.hpp"
#include "storage/event_log.hpp"

namespace nexus::app {

std::string version_line() {
  return std::string{"nexus "} + nexus_version + " (commit " + nexus_commit + ")";
}

std::string library_versions() {
  auto caf = std::to_string(CAF_VERSION / 10000) + "." + std::to_string(CAF_VERSION / 100 % 100)
             + "." + std::to_string(CAF_VERSION % 100);
  auto spdlog = std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "."
                + std::to_string(SPDLOG_VER_PATCH);
  return "CAF " + caf + ", RocksDB " + storage::event_log::rocksdb_version() + ", spdlog " + spdlog
         + ", simdjson " + config::simdjson_version() + ", libcurl "
         + curl_version_info(CURLVERSION_NOW)->version;
}

} // namespace nexus::app
