#pragma once

#include <string>

#include "config/workflow.hpp"

namespace nexus::runtime {

/// Sets the default spdlog logger: JSON lines to `logging.file` (under
/// `data_dir` unless absolute), rotated by size, and warnings and errors on
/// stderr. False, with `error` set, if the file cannot be opened.
bool setup_logging(const config::logging_settings& logging, const std::string& data_dir,
                   std::string& error);

} // namespace nexus::runtime
