#pragma once

#include <memory>
#include <string>

#include "storage/event_log.hpp"

namespace nexus::app {

/// Opens the event log in `dir` read-only, for commands that only read and
/// may run beside a `nexus run` that writes. On failure prints why and
/// returns null.
std::unique_ptr<storage::event_log> open_for_reading(const std::string& dir);

} // namespace nexus::app
