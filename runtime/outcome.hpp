#pragma once

#include <cstdint>
#include <string>

#include "config/error_kind.hpp"

namespace nexus::runtime {

/// What one attempt of a step or compensation came to.
struct outcome {
  bool ok = true;
  std::string output;  ///< Raw JSON on success; "" stands for null.
  config::error_kind kind = config::error_kind::transient; ///< On failure.
  std::string message; ///< On failure.
  std::int64_t retry_after_ms = 0; ///< circuit_open: when the breaker may let a call through.

  static outcome success(std::string output_json) { return {true, std::move(output_json), {}, {}, 0}; }
  static outcome failure(config::error_kind k, std::string msg) { return {false, {}, k, std::move(msg), 0}; }
};

} // namespace nexus::runtime
