#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nexus::config {

/// Why a step attempt failed. Persisted as its name in the event log
/// (`error_kind`): changing a name breaks recovery.
enum class error_kind : std::uint8_t {
  transient,     ///< Worth retrying.
  permanent,     ///< Retrying cannot help: compensate now.
  timeout,       ///< The attempt outlived its `timeout_ms`.
  circuit_open,  ///< Refused by an open breaker without being tried.
  cancelled,     ///< The saga was cancelled while the attempt ran.
};

std::string_view to_string(error_kind x);

/// Parses the persisted name; nullopt for anything else.
std::optional<error_kind> parse_error_kind(std::string_view name);

} // namespace nexus::config
