#pragma once

// What the hot path counts for the metrics (app/metrics.cpp, docs/metrics.md):
// plain relaxed atomics that a saga, a stage, a breaker or the log writer
// bumps where it already is, and that a scrape reads. Nothing here knows
// Prometheus: prometheus-cpp's Histogram takes a mutex on every Observe,
// and its Family::Add hashes the labels under another, which a step must
// not pay; the scrape turns these figures into its metric families.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config/error_kind.hpp"
#include "storage/saga_status.hpp"

namespace nexus::runtime {

struct outcome;

/// A histogram with fixed upper bounds (in the unit observed: microseconds
/// for durations, events for batch sizes), counted per bucket.
class histogram_meter {
public:
  explicit histogram_meter(std::vector<std::int64_t> bounds);

  void observe(std::int64_t value);

  /// Upper bounds, ascending; values above the last fall in a bucket of
  /// their own (+Inf).
  const std::vector<std::int64_t>& bounds() const { return bounds_; }
  /// Observations per bucket (not cumulative), bounds().size() + 1 of them.
  std::vector<std::uint64_t> counts() const;
  std::int64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const;

  /// Buckets for durations in microseconds: 0.5 ms to 5 min.
  static std::vector<std::int64_t> duration_bounds();

private:
  std::vector<std::int64_t> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<std::int64_t> sum_{0};
};

using counter_meter = std::atomic<std::uint64_t>;

/// What an attempt came to, as the metrics tell it: succeeded, or failed
/// with one of the error kinds.
constexpr std::size_t outcome_kinds = 6;
std::size_t outcome_index(const outcome& o);
const char* outcome_name(std::size_t index);

/// One step of a saga (by saga and step name, whatever definition runs it).
/// Index 0 of each pair is the action, 1 its compensation.
struct step_meters {
  /// Counted by the saga (where its machine runs): every answer a stage or
  /// a breaker gave to one of its calls.
  std::array<std::array<counter_meter, outcome_kinds>, 2> attempts{};
  /// Counted by the stage (where the attempt runs: a worker node's own in a
  /// cluster): from the call reaching a worker to the worker being free.
  std::array<histogram_meter, 2> duration{histogram_meter{histogram_meter::duration_bounds()},
                                          histogram_meter{histogram_meter::duration_bounds()}};
  /// The stage's, as stage_stats has them; `staged`: this process has a
  /// stage for the step (set before its stage runs).
  std::atomic<bool> staged{false};
  counter_meter calls{0}, refused{0};
  std::atomic<std::uint32_t> busy{0}, queued{0};

  void attempt_ended(bool compensation, const outcome& o);
};

/// A saga's time from its start to its end, by the status it ended with.
struct saga_meters {
  static constexpr std::size_t statuses = 4; // completed, compensated, failed, cancelled
  std::array<histogram_meter, statuses> duration{
    histogram_meter{histogram_meter::duration_bounds()}, histogram_meter{histogram_meter::duration_bounds()},
    histogram_meter{histogram_meter::duration_bounds()}, histogram_meter{histogram_meter::duration_bounds()}};

  void ended(storage::saga_status status, std::int64_t took_us);
  static const char* status_name(std::size_t index);
};

/// A circuit breaker's transitions, by the state it moved to.
struct breaker_meters {
  static constexpr std::size_t states = 3; // open, half_open, closed
  std::array<counter_meter, states> transitions{};
  static const char* state_name(std::size_t index);
};

/// The event log writer's batches.
struct log_meters {
  histogram_meter batch_events{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  /// A batch's write: RocksDB's Write to the memtables and the WAL file
  /// (its fsync is the syncer's, below).
  histogram_meter write_us{histogram_meter::duration_bounds()};
  /// One sync of the WAL (`durability: sync`), which covers every batch
  /// written before it.
  histogram_meter sync_us{histogram_meter::duration_bounds()};
  counter_meter bytes{0}; ///< The write batches' data (keys, values, headers).
};

/// The nodes of a cluster, as its coordinator's dispatcher sees them.
struct cluster_meters {
  counter_meter joined{0};
  counter_meter left{0};
  std::atomic<std::int64_t> nodes{0}; ///< Joined now.
};

/// The span exporter's (runtime/span_export.hpp).
struct trace_meters {
  counter_meter exported{0};
  counter_meter dropped{0}; ///< The queue was full, or the collector failed or refused them.
};

/// Every meter of a process, created on first use and never removed (their
/// number is bounded by the workflow: sagas, steps, resources). Lookups take
/// a lock: they are made when an actor is set up, not per message; the
/// meters they return stay put for the board's life.
class meter_board {
public:
  step_meters& step(const std::string& saga, const std::string& step);
  saga_meters& saga(const std::string& saga);
  breaker_meters& breaker(const std::string& resource);
  log_meters& log() { return log_; }
  cluster_meters& cluster() { return cluster_; }
  trace_meters& traces() { return traces_; }
  const trace_meters& traces() const { return traces_; }
  const log_meters& log() const { return log_; }
  const cluster_meters& cluster() const { return cluster_; }

  void for_each_step(const std::function<void(const std::string& saga, const std::string& step,
                                              const step_meters&)>& visit) const;
  void for_each_saga(const std::function<void(const std::string& saga, const saga_meters&)>& visit) const;
  void for_each_breaker(
    const std::function<void(const std::string& resource, const breaker_meters&)>& visit) const;

private:
  mutable std::mutex lock_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<step_meters>> steps_;
  std::map<std::string, std::unique_ptr<saga_meters>> sagas_;
  std::map<std::string, std::unique_ptr<breaker_meters>> breakers_;
  log_meters log_;
  cluster_meters cluster_;
  trace_meters traces_;
};

} // namespace nexus::runtime
