#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "storage/saga_status.hpp"

namespace nexus::runtime {

/// What a run did, as `nexus run` reports it.
struct run_summary {
  std::uint64_t started = 0;
  std::uint64_t resumed = 0;
  std::uint64_t completed = 0;
  std::uint64_t compensated = 0;
  std::uint64_t failed = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t duplicates = 0; ///< Requests for a correlation ID already in the log.
  std::uint64_t skipped = 0;    ///< Bad input lines left out (--on-bad-input skip).
  /// Sagas not ended yet: in the counts so far, those in flight or waiting
  /// for room; in a final summary, those left unfinished when the run was
  /// stopped (nexus serve's grace ran out), which resume on the next start.
  std::uint64_t interrupted = 0;
  /// Sagas waiting out of memory (see runtime.passivate_after_ms).
  std::uint64_t parked = 0;
  /// Sagas in memory now (alive: an actor each).
  std::uint64_t in_memory = 0;
  /// Starts and ends in this run, by saga name (what the metrics label by):
  /// as many entries as the workflow has sagas.
  struct saga_counts {
    std::uint64_t started = 0, completed = 0, compensated = 0, failed = 0, cancelled = 0;
  };
  std::map<std::string, saga_counts> by_saga;
  std::uint64_t total = 0;      ///< Sagas the run will have seen, when known in advance (progress).
  std::uint64_t peak_in_flight = 0; ///< Most sagas alive at once.
  std::uint64_t events = 0;     ///< Events appended by this run.
  std::uint64_t write_batches = 0; ///< The writes (RocksDB write batches) that took them.
  double seconds = 0;
  /// Latency of the sagas that ended in this run, from their start (for a
  /// submitted saga: its submission, so waiting for room counts; for a
  /// resumed one: its resumption) to their end.
  double latency_p50_ms = 0;
  double latency_p90_ms = 0;
  double latency_p99_ms = 0;
  double latency_p999_ms = 0; ///< Not in to_json() (its contract has p50 to max).
  double latency_max_ms = 0;
  /// Events read back to resume unfinished sagas, and the time spent
  /// finding and reading them (the scan of the log for unfinished sagas
  /// included).
  std::uint64_t replayed_events = 0;
  double replay_seconds = 0;
  std::string error;            ///< Why the run stopped early, if it did.
  /// In the counts so far: unfinished sagas found in the log and not yet
  /// brought back (recovery is done when none are left). Not in to_json().
  std::uint64_t to_resume = 0;

  /// Sagas ended in this run, however they ended.
  std::uint64_t ended() const { return completed + compensated + failed + cancelled; }

  /// Counts a saga that ended with `end` (none, or not an end: nothing).
  void count_end(std::optional<storage::saga_status> end);
  int exit_status = 0;          ///< 0, 1 (runtime error) or 2 (bad input).

  /// The summary as one JSON object (the `--json` contract of DESIGN.md).
  std::string to_json() const;
};

} // namespace nexus::runtime
