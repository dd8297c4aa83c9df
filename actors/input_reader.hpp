#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "config/input_line.hpp"
#include "config/workflow.hpp"
#include "runtime/input_source.hpp"

namespace nexus::actors {

/// What one read gives the coordinator.
struct input_batch {
  std::vector<config::saga_request> requests;
  bool end = false;          ///< Nothing more will come.
  std::string error;         ///< Set when the run must stop (exit status 2).
  std::uint64_t skipped = 0; ///< Bad lines left out under the skip policy.
};

/// The reader's interface, checked by the compiler where it is held.
using input_reader = caf::typed_actor<caf::replies_to<read_atom, std::uint32_t>::with<input_batch>>;

/// Spawns the reader of a run's input, a detached actor (reading a file or a
/// pipe blocks), pulled by the coordinator so that input is read only as
/// fast as there is room for it. It checks that each request names a saga
/// of `wf` (which must outlive it), and deals with bad lines by `policy`:
/// each is logged with its line number and either stops the run or is left
/// out.
///
/// Protocol: `(read_atom, uint32_t n)` -> `input_batch` of at most `n`
/// requests, as many as come without waiting; empty, and not at the end,
/// when nothing came for about 100 ms (a quiet pipe): ask again.
input_reader spawn_input_reader(caf::actor_system& sys,
                                std::shared_ptr<runtime::input_source> input,
                                const config::workflow& wf, runtime::bad_input_policy policy);

} // namespace nexus::actors

// Local only: the reader and the coordinator are on the same node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nexus::actors::input_batch)
