#pragma once

#include <chrono>
#include <cstdint>

namespace nexus::actors {

/// How long past a call's deadline its answer is waited for before the
/// call counts as timed out (a stage answering for a stuck worker, a
/// breaker giving up on a report).
constexpr std::chrono::milliseconds overrun_grace{2000};

/// What a stage has done, for tests, benchmarks and progress.
struct stage_stats {
  std::uint32_t running = 0;      ///< Calls on a worker now.
  std::uint32_t queued = 0;       ///< Calls waiting for a worker now.
  std::uint32_t peak_running = 0;
  std::uint32_t peak_queued = 0;
  std::uint64_t calls = 0;        ///< Calls done.
  std::uint64_t refused = 0;      ///< Calls refused because the queue was full.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stage_stats& x) {
  return f(x.running, x.queued, x.peak_running, x.peak_queued, x.calls, x.refused);
}

} // namespace nexus::actors
