#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace nexus::actors {

/// Nexus's own error codes, carried in a caf::error of category "nexus"
/// with the reason as the error's one context string (see describe()).
/// Registered with every actor system (system_config), which renders them.
enum class errc : std::uint8_t {
  log_write_failed = 1, ///< The event log refused a write; nothing after it is written.
  front_not_started,    ///< The cluster's TLS-less front could not listen.
};

std::string to_string(errc x);

/// An error's reason for a person: the context string of a Nexus error (or
/// of any error whose context is one string), else CAF's own rendering.
std::string describe(const caf::error& err);

} // namespace nexus::actors

CAF_ERROR_CODE_ENUM(nexus::actors::errc, "nexus")
