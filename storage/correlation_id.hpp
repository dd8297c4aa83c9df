#pragma once

#include <string>
#include <string_view>

namespace nexus::storage {

/// Largest correlation ID, in bytes.
constexpr std::size_t max_correlation_id_size = 128;

/// Whether `cid` is 1 to 128 bytes of [A-Za-z0-9._:-]. Only such IDs reach the
/// event log: the 0x00 separator in event keys relies on it.
bool valid_correlation_id(std::string_view cid);

/// `text` (a bad ID, an error message) quoted for a terminal: control
/// characters and bytes that are not UTF-8 shown as \xNN, `"` and `\` as
/// `\"` and `\\`; cut to `max_shown` bytes with "..." past them.
std::string escape_for_display(std::string_view text, std::size_t max_shown = 160);

/// Why `cid` is not valid, for an error message ("" if it is valid).
std::string correlation_id_problem(std::string_view cid);

} // namespace nexus::storage
