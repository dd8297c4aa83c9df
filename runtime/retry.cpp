#include "runtime/retry.hpp"

#include <algorithm>
#include <cmath>

namespace nexus::runtime {

std::int64_t retry_delay_ms(const config::retry_policy& p, std::uint32_t retry, double unit) {
  auto exponent = static_cast<double>(retry > 0 ? retry - 1 : 0);
  auto cap = static_cast<double>(p.max_interval_ms);
  auto base = std::min(static_cast<double>(p.initial_interval_ms) * std::pow(p.backoff, exponent), cap);
  auto spread = base * (1.0 + p.jitter * (2.0 * unit - 1.0));
  return static_cast<std::int64_t>(std::max(0.0, std::round(spread)));
}

bool may_retry(const config::retry_policy& p, std::uint32_t attempt, config::error_kind kind) {
  if (!p.retryable(kind))
    return false;
  return p.max_attempts == 0 || attempt < p.max_attempts;
}

} // namespace nexus::runtime
