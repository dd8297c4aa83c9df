#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/workflow.hpp"

namespace nexus::config {

/// One problem found in a workflow file: where it is and what is wrong.
struct config_error {
  std::string file;
  std::uint32_t line = 0;  ///< 0 when no line applies.
  std::string path;        ///< Key path such as `sagas.order.steps[1].retry.backoff`.
  std::string message;

  /// `file:line: path: message`, leaving out what is unknown.
  std::string to_string() const;
};

/// A loaded workflow, or every problem found in the file.
struct load_result {
  std::optional<workflow> value;
  std::vector<config_error> errors;

  bool ok() const { return value.has_value(); }
};

/// Reads, parses and validates the workflow file at `path`.
load_result load_workflow(const std::string& path);

/// Parses and validates workflow text; `file_name` only labels errors.
load_result parse_workflow(std::string_view text, const std::string& file_name);

/// Saga, step and resource names: 1 to 64 bytes of [A-Za-z0-9._-]. They go
/// into idempotency keys (`<cid>/<step>`) and correlation IDs, so no '/'.
bool valid_name(std::string_view name);

} // namespace nexus::config
