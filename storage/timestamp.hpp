#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nexus::storage {

/// Microseconds since the Unix epoch, from the system clock.
std::int64_t now_us();

/// RFC 3339 in UTC with microseconds: `2026-11-25T05:32:47.123456Z`.
std::string format_timestamp(std::int64_t us);

/// Inverse of format_timestamp (that exact form only).
std::optional<std::int64_t> parse_timestamp(std::string_view text);

} // namespace nexus::storage
