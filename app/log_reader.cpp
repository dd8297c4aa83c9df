#include "app/log_reader.hpp"

#include <filesystem>
#include <iostream>

namespace nexus::app {

std::unique_ptr<storage::event_log> open_for_reading(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path{dir} / "CURRENT", ec)) {
    std::cerr << "nexus: no event log in " << dir << " (run a workflow first, or pass --data-dir)\n";
    return nullptr;
  }
  std::string error;
  auto log = storage::event_log::open(storage::log_options::reader(dir), error);
  if (!log)
    std::cerr << "nexus: " << error << '\n';
  return log;
}

} // namespace nexus::app
