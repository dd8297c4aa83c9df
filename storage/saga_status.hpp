#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nexus::storage {

/// Where a saga stands. Persisted by name in its `sagas` row and shown by
/// every command: changing a name breaks recovery and the readers of logs.
enum class saga_status : std::uint8_t {
  running,      ///< Forward: steps run.
  compensating, ///< Rolling back what succeeded.
  completed,    ///< Every step succeeded.
  compensated,  ///< Rolled back cleanly.
  failed,       ///< A compensation failed for good (or a pivot held): an operator must look.
  cancelled,    ///< Stopped on request, what it did compensated.
};

/// Every status, in the order above.
inline constexpr saga_status all_saga_statuses[] = {
  saga_status::running,     saga_status::compensating, saga_status::completed,
  saga_status::compensated, saga_status::failed,       saga_status::cancelled};

std::string_view to_string(saga_status s);

/// The status named `text`; none if it names none.
std::optional<saga_status> parse_saga_status(std::string_view text);

/// completed, compensated, failed or cancelled.
inline bool is_terminal(saga_status s) {
  return s != saga_status::running && s != saga_status::compensating;
}

} // namespace nexus::storage
