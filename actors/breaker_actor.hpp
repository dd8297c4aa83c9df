#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"

#include "config/workflow.hpp"
#include "storage/breaker_row.hpp"

namespace nexus::runtime {
struct breaker_meters;
}

namespace nexus::actors {

/// The interface of a resource's breaker, checked by the compiler wherever
/// it is held: a step target that takes its stages' reports, answers its
/// state, and makes its row durable; `(sweep_atom)`, `(half_open_atom,
/// until)` and `(refresh_atom)` are its own timers'.
using breaker_actor =
  step_target::extend<caf::reacts_to<report_atom, std::uint64_t, bool, std::uint8_t>,
                      caf::replies_to<state_atom>::with<std::string>,
                      caf::replies_to<flush_atom>::with<bool>, caf::reacts_to<sweep_atom>,
                      caf::reacts_to<half_open_atom, std::int64_t>, caf::reacts_to<refresh_atom>>;

/// What a resource's breaker works with.
struct breaker_setup {
  std::string resource;
  const config::breaker_spec* spec = nullptr; ///< Must outlive the breaker.
  log_writer writer;                          ///< The event-log writer.
  /// The stage of each step that names the resource, by `<saga>/<step>`
  /// (in a cluster, the dispatcher).
  std::map<std::string, call_runner> stages;
  /// Its row from the log, to continue from (an open breaker stays open).
  std::optional<storage::breaker_row> stored;
  /// The time of day in microseconds; null: the system clock. A test on
  /// CAF's deterministic scheduler gives one that follows its clock, which
  /// also times the breaker's timers and the calls' durations.
  std::function<std::int64_t()> now_us;
  /// Where its transitions are counted; null: nowhere.
  runtime::breaker_meters* meters = nullptr;
};

/// Spawns the circuit breaker of one resource, which every step naming the
/// resource goes through (the saga sends to it as to a stage).
///
/// Protocol: `(execute_atom, step_call)` -> `step_result`. Closed, or
/// half-open with a trial permit: the call is delegated to the step's stage,
/// which answers the caller itself and reports `(report_atom, id, ok, kind)`
/// here, where the outcome and the time it took are counted. Open (or
/// half-open with no permit left): the answer is at once a failure of kind
/// `circuit_open` with `retry_after_ms`, and the stage never sees the call.
/// `(state_atom)` -> `std::string`: its state, after every report that
/// reached it before. `(flush_atom)` -> `bool`: its row's latest figures
/// are durable (false: the log refused them), asked before a run stops.
/// Each transition appends `breaker_opened`, `breaker_half_open` or
/// `breaker_closed` under `breaker:<resource>`, with the rates behind it and
/// the resource's new `breakers` row, and writes a log line; the row is
/// also written at the first call, then refreshed once a second while calls
/// come. It sends
/// itself `(half_open_atom, open_until_us)` to turn half-open when the open time
/// is up, `(refresh_atom)` to refresh the row, and `(sweep_atom)` to give up
/// (as a `timeout`) on calls whose stage has not answered by their
/// deadline plus a grace period.
breaker_actor spawn_breaker(caf::actor_system& sys, breaker_setup setup);

/// `<saga>/<step>`: how a breaker finds a call's stage.
std::string stage_key(const std::string& saga, const std::string& step);

} // namespace nexus::actors
