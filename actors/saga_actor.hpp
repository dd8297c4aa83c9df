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
}

namespace nexus::actors {

/// What a saga actor talks to: one per saga definition in a run, shared by
/// its sagas (a saga that is told to stop may still be finishing a handler
/// when the run lets go of its stages).
struct saga_links {
  log_writer writer;              ///< The event-log writer.
  /// The coordinator, told when the saga ends (coordinator.hpp's
  /// saga_listener, whose header would bring the coordinator's in).
  caf::typed_actor<caf::reacts_to<done_atom, std::string, std::string>,
                   caf::reacts_to<fail_atom, std::string, std::string>>
    coordinator;
  std::vector<step_target> stages; ///< One per step of the saga: its stage, or breaker.
};

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
/// `(retry_due_atom, step, attempt, compensation)` when a retry is due. When the
/// saga ends it sends `(done_atom, cid, status)` to the coordinator and quits.
/// `(cancel_atom)` -> `bool` cancels it (false if it had already ended);
/// `(deadline_atom)`, sent to itself, marks the saga's deadline;
/// if the log refuses a write it sends `(fail_atom, cid, message)` and quits.
caf::actor spawn_started_saga(caf::actor_system& sys, runtime::started_saga saga,
                              std::shared_ptr<const saga_links> links);
caf::actor spawn_resumed_saga(caf::actor_system& sys, runtime::saga_machine machine,
                              std::shared_ptr<const saga_links> links);

} // namespace nexus::actors
