#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <functional>
#include <iosfwd>
#include <vector>

#include "storage/saga_status.hpp"

namespace nexus::app {

/// Whether standard output gets colours: a terminal, and NO_COLOR not set.
bool stdout_colours();

enum class colour : std::uint8_t { none, red, green, yellow, blue, magenta, cyan, grey };

/// `text` in `c` when `on`, else as it is.
std::string paint(std::string_view text, colour c, bool on);

/// The colour a saga's status is shown in: completed green, compensated and
/// compensating yellow, failed red, cancelled magenta, running cyan.
colour status_colour(storage::saga_status status);

/// A duration for people: "850us", "12.3ms", "4.07s", "3m04s", "2h13m", "5d03h".
std::string human_duration(std::int64_t us);

/// `text` padded with spaces to `width` columns (bytes: IDs and names are ASCII).
std::string pad(std::string_view text, std::size_t width);

/// Prints `rows` (the first is the header, shown grey) as columns, each
/// padded to its widest cell; `colour_of(row, column)` colours a cell of
/// the rows after the header.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::function<colour(std::size_t row, std::size_t column)>& colour_of,
                 bool colours);

} // namespace nexus::app
