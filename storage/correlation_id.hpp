#pragma once

#include <string>
#include <string_view>

namespace nexus::storage {

/// Largest correlation ID, in bytes.
constexpr std::size_t max_correlation_id_size = 128;

/// Whether `cid` is 1 to 128 bytes of [A-Za-z0-9._:-]. Only such IDs reach the
/// event log: the 0x00 separator in event keys relies on it.
bool valid_correlation_id(std::string_view cid);

/// `cid` quoted, with every byte outside printable ASCII shown as \xNN, so an
/// error message can show a bad ID without passing its bytes to a terminal.
std::string escape_for_display(std::string_view cid, std::size_t max_shown = 160);

/// Why `cid` is not valid, for an error message ("" if it is valid).
std::string correlation_id_problem(std::string_view cid);

} // namespace nexus::storage
