#pragma once

#include <string>

namespace nexus::app {

/// The release of Nexus (the project's version in CMakeLists.txt).
extern const char* const nexus_version;
/// The commit it was built from: 12 hex digits, "-dirty" if the work tree
/// differed from it, or "unknown" when built outside a git checkout.
extern const char* const nexus_commit;

/// What `nexus --version` says first: "nexus 0.2.0 (commit 1a2b3c4d5e6f)".
std::string version_line();

/// The libraries Nexus runs on, with their versions: "CAF 0.17.6, RocksDB
/// 7.8.3, spdlog 1.10.0, simdjson 3.0.1, libcurl 7.88.1".
std::string library_versions();

} // namespace nexus::app
