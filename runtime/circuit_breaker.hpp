#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/workflow.hpp"

namespace nexus::runtime {

enum class breaker_state : std::uint8_t { closed, open, half_open, forced_open, disabled };

std::string_view to_string(breaker_state s);

/// Calls counted in a window, or among the half-open trials.
struct breaker_figures {
  std::uint32_t calls = 0;
  std::uint32_t failed = 0;
  std::uint32_t slow = 0;
  /// Percent, or -1 while there are fewer than the minimum of calls.
  double failure_rate = -1;
  double slow_call_rate = -1;
};

/// A change of state, to be logged: what it went to, the figures that made
/// it, and (to open) when it will let trial calls through.
struct breaker_transition {
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  breaker_figures figures;
  std::int64_t open_until_us = 0;
  std::string reason;
};

/// Whether a call may go through now.
struct breaker_permit {
  bool permitted = false;
  std::int64_t retry_after_ms = 0; ///< When refused: how long until it may.
  std::uint64_t generation = 0;    ///< When permitted: hand back to on_result.
};

/// The circuit breaker of one resource, free of actors and clocks: every
/// input carries the current time. Resilience4j's state machine
/// (CircuitBreakerStateMachine): a count or time sliding window in closed
/// state, opening when the failure rate or the slow-call rate reaches its
/// threshold once `minimum_calls` have been counted (for a count window, at
/// most its size); open for `open_ms`, growing by `open_backoff` on each
/// re-open up to `max_open_ms` (as Akka's breaker does); then half-open,
/// letting exactly `half_open_calls` trial calls through and judging them
/// alone. A call longer than `slow_call_ms` is slow, whether it succeeded or
/// failed. Error kinds in `record` count as failures, kinds in `ignore`
/// count not at all (and give a half-open permit back), as does
/// `circuit_open` (a full stage refused the call); any other outcome
/// counts as a success. Figures reset on every transition. `forced_open`
/// refuses every call and `disabled` permits every call, both counting
/// nothing.
class circuit_breaker {
public:
  explicit circuit_breaker(const config::breaker_spec& spec);

  /// Continues from a stored state (a restart): open until `open_until_us`
  /// after `reopens` re-opens, half-open, or closed. The override in the
  /// spec wins over what was stored; a change from `stored` is returned in
  /// `out`.
  void restore(breaker_state stored, std::int64_t open_until_us, std::uint32_t reopens,
               std::int64_t now_us, std::vector<breaker_transition>& out);

  /// May a call start at `now_us`? An open breaker whose time is up turns
  /// half-open first (a transition in `out`).
  breaker_permit try_acquire(std::int64_t now_us, std::vector<breaker_transition>& out);

  /// The outcome of a permitted call that took `duration_us`: success, or a
  /// failure of `kind`. A result from an earlier state (its `generation` is
  /// past) is not counted.
  void on_result(std::uint64_t generation, bool ok, config::error_kind kind,
                 std::int64_t duration_us, std::int64_t now_us,
                 std::vector<breaker_transition>& out);

  /// Turns an open breaker half-open once its time is up, so that the state
  /// shows without waiting for a call.
  void tick(std::int64_t now_us, std::vector<breaker_transition>& out);

  breaker_state state() const { return state_; }
  std::int64_t open_until_us() const { return open_until_us_; }
  std::uint32_t reopens() const { return reopens_; }

  /// The figures of the current window (or of the half-open trials so far).
  breaker_figures figures(std::int64_t now_us) const;

private:
  struct bucket {
    std::int64_t second = -1; ///< Epoch second of a time bucket.
    std::uint32_t calls = 0, failed = 0, slow = 0;
  };

  void record(bool failed, bool slow, std::int64_t now_us);
  void judge(std::int64_t now_us, std::vector<breaker_transition>& out);
  void move_to(breaker_state to, std::int64_t now_us, std::string reason,
               std::vector<breaker_transition>& out);
  void reset_window();
  std::int64_t open_time_ms() const;
  std::uint32_t minimum_calls() const;
  breaker_figures rates(std::uint32_t calls, std::uint32_t failed, std::uint32_t slow,
                        std::uint32_t minimum) const;

  const config::breaker_spec& spec_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t generation_ = 1;
  std::int64_t open_until_us_ = 0;
  std::uint32_t reopens_ = 0;
  // Closed: a ring of the last calls (count window) or of one-second
  // buckets (time window). Half-open: the trials' counts.
  std::vector<bucket> ring_;
  std::size_t next_ = 0;
  std::uint32_t count_calls_ = 0, count_failed_ = 0, count_slow_ = 0;
  std::uint32_t permits_left_ = 0;
};

} // namespace nexus::runtime
