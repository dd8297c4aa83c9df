#pragma once

#include <string>

namespace nexus::app {

/// The version of Nexus.
inline constexpr const char* nexus_version = "0.1.0";

/// The libraries Nexus runs on, with their versions: "CAF 0.17.6, RocksDB
/// 7.8.3, spdlog 1.10.0, simdjson 3.0.1, libcurl 7.88.1".
std::string library_versions();

} // namespace nexus::app
