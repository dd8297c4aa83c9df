#pragma once

#include <cstdint>

#include "config/workflow.hpp"

namespace nexus::runtime {

/// Delay in milliseconds before retry number `retry` (1 for the second
/// attempt): min(initial * backoff^(retry-1), max), spread by +-jitter using
/// `unit`, a uniform sample in [0, 1). Never negative.
std::int64_t retry_delay_ms(const config::retry_policy& p, std::uint32_t retry, double unit);

/// Whether a step that has failed `attempt` times with `kind` may try again.
bool may_retry(const config::retry_policy& p, std::uint32_t attempt, config::error_kind kind);

} // namespace nexus::runtime
