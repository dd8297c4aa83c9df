#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/trace_context.hpp"
#include "config/workflow.hpp"
#include "runtime/outcome.hpp"
#include "storage/event.hpp"
#include "storage/saga_row.hpp"

namespace nexus::runtime {

using storage::saga_status;

/// Something the saga actor must do once the events of the same transition
/// are durable.
struct command {
  enum class kind : std::uint8_t {
    execute,        ///< Run attempt `attempt` of step `step`.
    compensate,     ///< Run attempt `attempt` of step `step`'s compensation.
    schedule_retry, ///< Call retry_due(step, attempt, compensation) at `at_us`.
    deadline,       ///< Call deadline_due() at `at_us`.
    wake,           ///< Call wake_due(step, attempt, compensation) at `at_us`.
    finish,         ///< The saga has ended: report and stop.
  };
  kind type = kind::execute;
  std::uint32_t step = 0;
  std::uint32_t attempt = 0;
  bool compensation = false;
  std::int64_t at_us = 0;
};

/// What became of a signal sent to a saga.
enum class signal_result : std::uint8_t {
  stored,    ///< Its signal_received event is in the transition (and maybe its wait's end).
  duplicate, ///< A signal with its signal_id was received before: nothing to store.
  ended,     ///< The saga has ended: nothing waits for it.
  unknown,   ///< No saga has that correlation ID (never from the machine).
  failed,    ///< It could not be stored: the log refused it (never from the machine).
};

/// The result of one input: events to append, then commands to issue.
struct transition {
  std::vector<storage::event> events;
  std::vector<command> commands;

  bool empty() const { return events.empty() && commands.empty(); }
};

/// The saga logic, free of actors and clocks: inputs are the start request,
/// outcomes and due timers, each with the current time; outputs are events
/// (to be made durable first) and commands. State changes only by applying
/// events, so replaying a saga's stored events rebuilds exactly the state
/// that wrote them, and resume() continues from there.
///
/// Steps run group by group; a group (a `parallel` block, or one step) ends
/// when all its steps have succeeded, or when one has failed for good and
/// none is still running. Then the steps that succeeded are compensated,
/// group by group in reverse order, members of one group together.
///
/// A step without a compensation is a pivot: once it has succeeded, later
/// failures are retried forward (whatever the attempts and kind) until they
/// succeed or the deadline passes, and no compensation goes below the
/// pivot's group. Past the saga's deadline, or once cancelled, no new attempt
/// starts and the saga rolls back; at the deadline, running attempts are
/// abandoned (recorded as failed with kind `timeout`, naming the deadline),
/// and an attempt whose time limit was the saga's time left is recorded so
/// when it times out, even a moment before the deadline timer fires.
/// `circuit_open` failures wait for the breaker without using up an attempt.
///
/// `sleep` and `wait` steps (and `sleep` compensations) are run by the
/// machine itself: their attempt records a step_waiting event with the time
/// it wakes and asks for a `wake` command; a sleep then succeeds, a wait
/// fails with kind `timeout`. Signals are recorded (signal_received) when
/// they come, kept until a wait of their name starts, and consumed one per
/// wait in the order they came; a wait's step_succeeded names its signal.
class saga_machine {
public:
  saga_machine(const config::saga_spec& spec, std::string cid);

  /// Starts the saga with its input (raw JSON object), in the trace of
  /// `traceparent` (W3C; its caller's span is the saga span's parent) or,
  /// with none (or a malformed one), in a trace of its own; `tracestate` is
  /// passed on to its steps. Both are recorded in saga_started.
  void start(std::string input_json, std::int64_t now_us, transition& out,
             const std::string& traceparent = {}, const std::string& tracestate = {});

  /// Attempt `attempt` of step `step` has ended with `o`.
  void step_finished(std::uint32_t step, std::uint32_t attempt, const outcome& o,
                     std::int64_t now_us, transition& out);

  /// Attempt `attempt` of step `step`'s compensation has ended with `o`.
  void compensation_finished(std::uint32_t step, std::uint32_t attempt, const outcome& o,
                             std::int64_t now_us, transition& out);

  /// A retry timer set by a schedule_retry command has fired.
  void retry_due(std::uint32_t step, std::uint32_t attempt, bool compensation,
                 std::int64_t now_us, transition& out);

  /// The saga's deadline timer (from a `deadline` command) has fired.
  void deadline_due(std::int64_t now_us, transition& out);

  /// A wake timer (from a `wake` command) of a sleeping or waiting attempt
  /// has fired.
  void wake_due(std::uint32_t step, std::uint32_t attempt, bool compensation, std::int64_t now_us,
                transition& out);

  /// Signal `name` has come, with `data_json` (raw JSON, "" for none) and
  /// the sender's `signal_id` ("" for none). A wait of that name that is
  /// waiting consumes it in the same transition.
  signal_result signal(const std::string& name, std::string data_json, std::string signal_id,
                       std::int64_t now_us, transition& out);

  /// The time that never comes: idle_until() of a saga that waits for a
  /// signal (or a cancel) with no time limit.
  static constexpr std::int64_t never = INT64_MAX;

  /// When the saga next needs to be woken, if nothing runs for it: every
  /// attempt of its current group sleeps, waits for a signal or for a
  /// retry, and the earliest of their times and its deadline is returned
  /// (`never` if none has a time). Empty while an attempt runs, or once it
  /// has ended. A function of the applied events alone: a machine rebuilt
  /// from them gives what the one that wrote them gave.
  std::optional<std::int64_t> idle_until() const;


  /// Asks the saga to stop: it starts no new step, compensates what
  /// succeeded and ends `cancelled`. False, doing nothing, if it has ended.
  bool cancel(std::int64_t now_us, transition& out);

  /// An operator has fixed what made a compensation fail for good: a saga
  /// that ended `failed` so compensates again from where it stopped, with a
  /// fresh round of attempts for the compensations that failed. False,
  /// doing nothing, for a saga that did not end that way.
  bool retry_compensation(std::int64_t now_us, transition& out);

  /// Records that this saga, rebuilt on its new definition (the machine's
  /// spec), has moved there from definition `from_hash`: a
  /// definition_changed event. The caller has checked that the move is
  /// safe (runtime/migration.hpp).
  void moved_from(const std::string& from_hash, std::int64_t now_us, transition& out);

  /// Folds one stored event into the state (recovery). Events must come in
  /// sequence order from 1; false, with `error` set, if one does not fit.
  bool replay(const storage::event& e, std::string& error);

  /// After replay: the commands that carry an unfinished saga on (steps
  /// that had started run again with the same idempotency key, retries keep
  /// their time), plus any events needed to move on.
  void resume(std::int64_t now_us, transition& out);

  saga_status status() const { return status_; }
  /// When it started: the time of its saga_started event.
  std::int64_t started_us() const { return started_us_; }
  bool finished() const { return phase_ == phase::done; }
  const std::string& cid() const { return cid_; }
  const config::saga_spec& spec() const { return spec_; }
  std::uint64_t last_seq() const { return last_seq_; }
  /// When the saga's deadline passes (microseconds since the epoch); 0: none.
  std::int64_t deadline_us() const { return deadline_at_us_; }
  /// Its trace: the trace ID, the saga's span and its parent (valid once
  /// started; a saga logged before traces gets one made from its ID).
  const config::trace_context& trace() const { return trace_; }
  /// The caller's tracestate, "" for none.
  const std::string& tracestate() const;

  /// JSON handed to an attempt: {"input": ..., "steps": {name: output, ...}}.
  std::string step_input(std::uint32_t step) const;

  /// `<cid>/<step>`, or `<cid>/<step>/compensate`: stable across retries.
  std::string idempotency_key(std::uint32_t step, bool compensation) const;

  /// The `sagas` row for the state after the last applied event.
  storage::saga_row row(std::int64_t now_us) const;

  enum class phase : std::uint8_t { forward, compensating, done };
  enum class step_state : std::uint8_t {
    pending, running, retry_wait, succeeded, failed,
    compensating, compensation_wait, compensated, compensation_failed,
  };
  /// Where step `i` stands, and the saga: what a migration is checked against.
  step_state state_of(std::uint32_t i) const { return steps_[i].state; }
  phase current_phase() const { return phase_; }

private:
  struct progress {
    step_state state = step_state::pending;
    /// The running attempt's time limit is the saga's deadline: its step
    /// timeout reaches past it. Its timeout is then the deadline's cut,
    /// whether the executor's timer or the saga's fires first.
    bool deadline_bounds = false;
    /// A sleep or wait attempt has recorded its step_waiting.
    bool waiting = false;
    std::uint32_t attempt = 0;       ///< Of the action.
    std::uint32_t comp_attempt = 0;  ///< Of the compensation.
    std::uint32_t next_attempt = 0;  ///< While waiting for a retry.
    /// When the retry is due; for a sleeping or waiting attempt, when it
    /// wakes (0: a wait without a time limit).
    std::int64_t retry_at_us = 0;
    std::string output;
    std::string last_error;
  };

  storage::event& emit(storage::event_type t, int step, std::int64_t now_us, transition& out);
  void apply(const storage::event& e);
  void apply_trace(const storage::event& e);
  void advance(std::int64_t now_us, transition& out);
  bool advance_forward(std::int64_t now_us, transition& out);
  bool advance_compensation(std::int64_t now_us, transition& out);
  void fail_attempt(std::uint32_t step, std::uint32_t attempt, const outcome& o, bool compensation,
                    std::int64_t now_us, transition& out);
  std::uint32_t group_of(std::uint32_t step) const;
  bool deadline_passed(std::int64_t now_us) const;
  /// A step without a compensation that does something: a sleep or a wait
  /// without one is none.
  bool is_pivot(std::uint32_t step) const;
  int pivot_group() const;
  /// Fails the current group's steps that wait for a retry, and with
  /// `running_too` those whose attempt is running (abandoning it).
  void fail_waiting_steps(config::error_kind kind, const std::string& why, std::int64_t now_us,
                          transition& out, bool running_too = false);
  std::string deadline_reason() const;
  /// Goes on with an attempt just recorded as started: a command for its
  /// stage, or, for a sleep or wait, its wait (or its end, when its time
  /// has passed or its signal is here). True if it ended at once.
  bool begin_attempt(std::uint32_t step, std::uint32_t attempt, bool compensation,
                     std::int64_t now_us, transition& out);
  /// When a sleep or a wait's timeout started `now_us` wakes; 0 with `why`
  /// set if a sleep's `until` names no time.
  std::int64_t wake_time(std::uint32_t step, const config::action_spec& a, std::int64_t now_us,
                         std::string& why) const;
  int pending_signal(const std::string& name) const;
  /// Ends step `step`'s waiting `wait` with the first kept signal of its
  /// name; false if it does not wait or no such signal is kept.
  bool consume_signal(std::uint32_t step, std::int64_t now_us, transition& out);
  /// Records the success of a sleep or wait attempt: its output (a wait's
  /// signal data, "null" for a sleep) and the signal it consumed, if any.
  void end_wait(std::uint32_t step, std::uint32_t attempt, bool compensation, std::string output,
                const std::string& signal, std::int64_t now_us, transition& out);
  void finish_rollback(std::int64_t now_us, transition& out);
  double next_unit();

  const config::saga_spec& spec_;
  std::string cid_;
  std::string input_ = "{}";
  std::vector<progress> steps_;
  phase phase_ = phase::forward;
  saga_status status_ = saga_status::running;
  std::uint32_t group_ = 0;
  std::uint64_t last_seq_ = 0;
  std::int64_t started_us_ = 0;
  std::int64_t deadline_at_us_ = 0; ///< 0: none.
  bool cancel_requested_ = false;
  std::uint64_t rng_;
  config::trace_context trace_;
  std::unique_ptr<std::string> tracestate_; ///< Null: none (most sagas).
  struct received_signal {
    std::string name;
    std::string data;
  };
  /// Signals received and not yet consumed, in arrival order, and every
  /// signal_id received. Behind a pointer: most sagas never get one.
  struct signal_box {
    std::vector<received_signal> pending;
    std::vector<std::string> ids;
  };
  std::unique_ptr<signal_box> signals_;
};

/// `<cid>/<step>`, or `<cid>/<step>/compensate`: the idempotency key of
/// every attempt of a step, or of its compensation. Persisted in events and
/// handed to programs: changing it breaks their deduplication.
std::string idempotency_key(std::string_view cid, std::string_view step, bool compensation);

} // namespace nexus::runtime
