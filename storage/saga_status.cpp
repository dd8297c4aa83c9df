#include "storage/saga_status.hpp"

namespace nexus::storage {

std::string_view to_string(saga_status s) {
  switch (s) {
    case saga_status::running:
      return "running";
    case saga_status::compensating:
      return "compensating";
    case saga_status::completed:
      return "completed";
    case saga_status::compensated:
      return "compensated";
    case saga_status::failed:
      return "failed";
    case saga_status::cancelled:
      return "cancelled";
  }
  return "running";
}

std::optional<saga_status> parse_saga_status(std::string_view text) {
  for (auto s : all_saga_statuses)
    if (to_string(s) == text)
      return s;
  return std::nullopt;
}

} // namespace nexus::storage
