#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "actors/event_log_writer.hpp"

namespace nexus::runtime {
class saga_machine;
}

namespace nexus::actors {

/// What a saga actor talks to: one per saga definition in a run, shared by
/// its sagas (a saga that is told to stop may still be finishing a handler
/// when the run lets go of its stages).
struct saga_links {
  log_writer writer;              ///< The event-log writer.
  caf::actor coordinator;         ///< Told when the saga ends.
  std::vector<caf::actor> stages; ///< One per step of the saga.
};

/// Spawns the actor that drives one saga through its machine. A machine
/// with no events yet is started with `input`; one rebuilt from the log
/// is resumed.
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
caf::actor spawn_saga(caf::actor_system& sys, runtime::saga_machine machine,
                      std::string input, std::shared_ptr<const saga_links> links);

} // namespace nexus::actors
