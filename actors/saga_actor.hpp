#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"

namespace nexus::runtime {
class saga_machine;
struct started_saga;
struct saga_meters;
struct step_meters;
class span_exporter;
}

namespace nexus::actors {

/// What a saga actor talks to: one per saga definition in a run, shared by
/// its sagas (a saga that is told to stop may still be finishing a handler
/// when the run lets go of its stages).
struct saga_links {
  log_writer writer;              ///< The event-log writer.
  /// The coordinator, told when the saga ends (coordinator.hpp's
  /// saga_listener, whose header would bring the coordinator's in).
  caf::typed_actor<caf::reacts_to<done_atom, std::string, std::string, std::string>,
                   caf::reacts_to<fail_atom, std::string, std::string>,
                   caf::reacts_to<park_atom, std::string, std::int64_t>>
    coordinator;
  std::vector<step_target> stages; ///< One per step of the saga: its stage, or breaker.
  /// runtime.passivate_after_ms: a saga that waits longer leaves memory.
  std::int64_t passivate_after_us = 5'000'000;
  /// Where the metrics count its sagas' ends and, per step, the answers
  /// its attempts got; null and empty: nowhere.
  runtime::saga_meters* meters = nullptr;
  std::vector<runtime::step_meters*> step_meters;
  /// Where its sagas' spans and their attempts' go; null: nowhere.
  runtime::span_exporter* spans = nullptr;
};

/// Where a resumed saga comes from: the log's unfinished sagas at the start
/// of a run, or the timer index (parked, its wake-up due), or the log for a
/// signal or cancel that follows (parked: its timers are held back until
/// its next write shows whether it parks again).
enum class resumed_from : std::uint8_t { log, park_for_timer, park_for_request };

/// What CAF allocates for one saga's actor: its control block (a cache
/// line), the actor object with its mailbox, and the saga's state held in
/// it (the machine, without what its strings and vectors point to). The
/// floor under a saga that keeps its actor while it waits.
std::size_t saga_actor_bytes();

/// Spawns the actor that drives one saga through its machine: one whose
/// start is durable (spawn_started_saga: it issues its start's commands),
/// or one rebuilt from the log (spawn_resumed_saga: it resumes where the
/// log says it was). Every new saga, whatever it came from, is started by
/// the coordinator (runtime::saga_admission) and spawned the first way.
///
/// Protocol: it sends `(append_atom, append_request)` to the writer (a plain
/// message, answered with a plain `ack_atom` or error) and issues nothing
/// until the append is acknowledged; `(execute_atom,
/// step_call)` to the step's stage, with the step's timeout; and, to itself,
/// `(retry_due_atom, step, attempt, compensation)` when a retry is due. When
/// the saga ends it sends `(done_atom, cid, status, saga name)` to the
/// coordinator and quits.
/// `(cancel_atom)` -> `bool` cancels it (false if it had already ended);
/// `(deadline_atom)`, sent to itself, marks the saga's deadline;
/// a saga whose write parks it (it waits longer than passivate_after_us)
/// sends `(park_atom, cid, wake_us)` once it is durable (wake_us: its
/// idle_until(), `never` for none) and quits; `(wake_atom)` sets the timers a
/// saga brought back for a signal or cancel held back;
/// if the log refuses a write it sends `(fail_atom, cid, message)` and quits.
caf::actor spawn_started_saga(caf::actor_system& sys, runtime::started_saga saga,
                              std::shared_ptr<const saga_links> links);
caf::actor spawn_resumed_saga(caf::actor_system& sys, runtime::saga_machine machine,
                              std::shared_ptr<const saga_links> links,
                              resumed_from from = resumed_from::log);

} // namespace nexus::actors
