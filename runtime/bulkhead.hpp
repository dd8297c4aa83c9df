#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace nexus::runtime {

/// The bulkhead policy of a stage, free of actors and clocks: calls run on a
/// fixed number of workers; beyond them up to `bound` wait in a queue, and a
/// call beyond that is refused as an open breaker refuses (the caller waits
/// for about the time the queue needs to drain and tries again, without
/// using up an attempt). The queue's length drives back-pressure with
/// hysteresis: full at the bound, eased once it is half empty. The
/// cluster's dispatcher takes the same decision for calls that wait for a
/// node.
class bulkhead {
public:
  /// `workers` at least 1; `bound` at least 1. A refused call waits at
  /// least `min_retry_after_ms` (a cluster's calls cross the network).
  bulkhead(std::uint32_t workers, std::uint32_t bound, std::int64_t min_retry_after_ms = 1);

  enum class admission : std::uint8_t { run, wait, refuse };

  struct decision {
    admission what = admission::run;
    std::int64_t retry_after_ms = 0; ///< With `refuse`.
  };

  /// What becomes of a new call with `idle` workers free and `queued`
  /// calls already waiting.
  decision admit(std::size_t idle, std::size_t queued) const;

  /// The workers are now `workers` (at least 1): a cluster's nodes come and go.
  void set_workers(std::uint32_t workers);

  /// A call took `ms` on a worker (a moving average feeds refusals' waits).
  void took(double ms);

  /// The queue now holds `queued`: the new back-pressure state when it
  /// changes (true: full, stop feeding; false: eased), else none.
  std::optional<bool> pressure(std::size_t queued);

  /// Why a call was refused, for its failure message.
  std::string refusal(const std::string& stage, std::size_t queued) const;

  bool pressing() const { return pressing_; }
  std::uint32_t bound() const { return bound_; }
  std::uint32_t workers() const { return workers_; }
  double call_ms() const { return call_ms_; }

private:
  std::uint32_t workers_;
  std::uint32_t bound_;
  std::int64_t min_retry_after_ms_;
  double call_ms_ = 1; ///< Moving average of a call's time on a worker.
  bool pressing_ = false;
};

/// When a periodic sweep (of calls past their time) is due: one armed timer
/// at most, re-armed while there is something to sweep. Every actor that
/// sweeps (stages, breakers, the cluster's dispatcher) keeps one, so one
/// interval and one rule serve them all.
class sweep_timer {
public:
  /// How often a busy actor looks for calls past their time.
  static constexpr std::int64_t interval_ms = 500;

  /// Whether a timer must be set now (none is on its way).
  bool arm() {
    if (armed_)
      return false;
    armed_ = true;
    return true;
  }

  /// The timer has fired: the next arm() sets a new one.
  void fired() { armed_ = false; }

private:
  bool armed_ = false;
};

} // namespace nexus::runtime
