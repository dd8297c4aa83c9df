#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nexus::storage {

/// The `breakers` family's row for one resource (key: the resource name):
/// its state and figures when last written, for `nexus breakers` and for a
/// restart to continue from. Persisted as JSON: changing a field breaks
/// reading existing logs.
struct breaker_row {
  std::string state = "closed";   ///< closed, open, half_open, forced_open, disabled.
  std::uint64_t last_seq = 0;     ///< Of its events, under breaker_cid(resource).
  std::int64_t updated_us = 0;
  std::int64_t open_until_us = 0; ///< While open: when it next lets trial calls through.
  std::uint32_t reopens = 0;      ///< Re-opens since it last closed (the open time grows).
  std::uint32_t calls = 0;        ///< In the window (or the half-open trials).
  std::uint32_t failed_calls = 0;
  std::uint32_t slow_calls = 0;
  double failure_rate = -1;       ///< Percent; -1 below minimum_calls.
  double slow_call_rate = -1;     ///< Percent; -1 below minimum_calls.
};

void encode_breaker_row(const breaker_row& row, std::string& out);
bool decode_breaker_row(std::string_view json, breaker_row& row, std::string& error);

/// The correlation ID a resource's breaker events are stored under:
/// `breaker:<resource>`.
std::string breaker_cid(std::string_view resource);

/// The resource of a breaker's correlation ID; none for a saga's.
std::optional<std::string_view> breaker_resource(std::string_view cid);

} // namespace nexus::storage
