#include "config/error_kind.hpp"

namespace nexus::config {

std::string_view to_string(error_kind x) {
  switch (x) {
    case error_kind::transient:
      return "transient";
    case error_kind::permanent:
      return "permanent";
    case error_kind::timeout:
      return "timeout";
    case error_kind::circuit_open:
      return "circuit_open";
    case error_kind::cancelled:
      return "cancelled";
  }
  return "transient";
}

std::optional<error_kind> parse_error_kind(std::string_view name) {
  for (auto k : {error_kind::transient, error_kind::permanent, error_kind::timeout,
                 error_kind::circuit_open, error_kind::cancelled})
    if (to_string(k) == name)
      return k;
  return std::nullopt;
}

} // namespace nexus::config
