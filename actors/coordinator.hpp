#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/event_log_writer.hpp"
#include "actors/input_reader.hpp"
#include "actors/messages.hpp"
#include "actors/placement.hpp"

#include "config/workflow.hpp"

namespace nexus::runtime {
class definition_catalog;
class meter_board;
class span_exporter;
}

namespace nexus::storage {
class event_log;
}

namespace nexus::actors {

/// What the coordinator works with; everything pointed to outlives it.
struct coordinator_setup {
  const config::workflow* workflow = nullptr;
  /// Every definition a saga of this run runs on (the file's, and those of
  /// unfinished and failed sagas in the log).
  runtime::definition_catalog* definitions = nullptr;
  storage::event_log* log = nullptr;
  log_writer writer;
  /// Per definition (config::saga_spec::id), what its steps' calls go to,
  /// in step order.
  std::map<std::uint64_t, std::vector<step_target>> stages;
  input_reader input;          ///< Its input reader; null: resume and submissions only.
  std::uint64_t input_size = 0; ///< Requests the input will give, when known (else 0).
  /// Every stage: the coordinator watches them, and starts no saga while one
  /// of them has too many calls waiting.
  std::vector<pressure_source> pools;
  /// The unfinished sagas in the log, to resume first: (ID, hash of the
  /// definition each runs on, held by `definitions`).
  std::vector<std::pair<std::string, std::string>> unfinished;
  /// How many more are parked, left in the log until woken.
  std::uint64_t parked = 0;
  /// Where its timer service runs: where the coordinator does (set by
  /// spawn_coordinator).
  placement timer_placement = placement::own_thread;
  /// Where sagas count what the metrics show; null: nowhere.
  runtime::meter_board* meters = nullptr;
  /// Where sagas' spans go (tracing.otlp_endpoint); null: nowhere.
  runtime::span_exporter* spans = nullptr;
};

/// What a saga tells the coordinator: it has ended `(done_atom, cid,
/// status, saga name)`, or the log refused its write `(fail_atom, cid,
/// message)`, or it has parked `(park_atom, cid, wake_us)`.
using saga_listener =
  caf::typed_actor<caf::reacts_to<done_atom, std::string, std::string, std::string>,
                   caf::reacts_to<fail_atom, std::string, std::string>,
                   caf::reacts_to<park_atom, std::string, std::int64_t>>;

/// The coordinator's interface, checked by the compiler wherever it is
/// held (the protocol is described at spawn_coordinator()).
using coordinator_actor = saga_listener::extend<
  caf::reacts_to<run_atom>, caf::replies_to<close_atom>::with<runtime::run_summary>,
  caf::replies_to<start_atom, config::saga_request>::with<std::uint8_t>,
  caf::replies_to<start_atom, config::saga_request, caf::actor>::with<std::uint8_t>,
  caf::replies_to<cancel_atom, std::string>::with<std::uint8_t, std::string>,
  caf::replies_to<signal_atom, std::string, std::string, std::string, std::string>::with<
    std::uint8_t, std::string>,
  caf::replies_to<retry_atom, std::string>::with<bool, std::string>,
  caf::replies_to<stats_atom>::with<runtime::run_summary>,
  caf::replies_to<watch_atom, std::string>::with<std::string>,
  caf::reacts_to<pressure_atom, std::string, bool>,
  caf::reacts_to<wake_atom, std::string, std::int64_t>,
  caf::replies_to<close_atom, bool>::with<runtime::run_summary>>;

/// Spawns the coordinator of a run: the shell of runtime::saga_admission,
/// which makes its decisions (what goes live next, the one start path,
/// duplicates, the counts); it reads the log and the input, writes starts
/// and spawns sagas as the core says.
///
/// Protocol: `(run_atom)` begins the run: it resumes every unfinished saga in
/// the log, then starts new ones, submitted or from the input, keeping at
/// most `runtime.max_in_flight` alive. `(start_atom, saga_request)` ->
/// `uint8_t` (an actors::start_result) submits one. `(cancel_atom, cid)` ->
/// `(uint8_t, std::string)`: an actors::cancel_result and, when it had
/// ended, the saga's status; input lines `{"cancel": CID}` do the same.
/// `(signal_atom, cid, name, data, signal_id)` -> `(uint8_t, std::string)`:
/// a runtime::signal_result once the signal is durable (or why not; the
/// status of a saga that had ended); input lines `{"signal": NAME, ...}` do
/// the same.
/// `(retry_atom, cid)` -> `(bool, std::string)`: reopens the compensation
/// of a saga that ended `failed` and resumes it (true once durable), or
/// false and why not.
/// `(close_atom)` -> `runtime::run_summary`: no more submissions; answered
/// once every saga has ended (or the run had to stop); `(close_atom,
/// false)`: once every saga in memory has (parked ones wait in the log).
/// Parked sagas: a saga whose write parks it sends `(park_atom, cid,
/// wake_us)` and quits; the coordinator's timer service
/// (actors/timer_service.hpp) tells it `(wake_atom, cid, wake_us)` when a
/// parked saga's timer is due, and a signal or cancel for a parked saga
/// brings it back from its events first. It receives
/// `(done_atom, cid, status, saga)`, `(fail_atom, cid, message)` and
/// `(park_atom, cid, wake_us)` from sagas.
/// `(stats_atom)` -> `runtime::run_summary`: the counts so far, for
/// progress. `(watch_atom, cid)` -> `std::string`: answered with the saga's
/// end status when it ends (at once if it has), or at once with "" if it is
/// unknown or not running here (not resumable). It takes `(pressure_atom, stage, full)` from the stages it
/// watches: while
/// any is full it starts nothing new. Told to exit, it stops its live sagas
/// first.
/// It runs on a thread of its own (its duplicate checks, cancels and
/// resumes read the log) unless a test places it on the scheduler.
coordinator_actor spawn_coordinator(caf::actor_system& sys, coordinator_setup setup,
                             placement where = placement::own_thread);

} // namespace nexus::actors
