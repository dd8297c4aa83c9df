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

/// Any RFC 3339 date-time (section 5.6): `2026-12-24T18:00:00Z`,
/// `2026-12-24t19:00:00.5+01:00`; fractions beyond microseconds are cut.
/// Microseconds since the epoch, or nothing if `text` is not one.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

} // namespace nexus::storage
