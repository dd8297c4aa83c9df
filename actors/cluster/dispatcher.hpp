#pragma once

#include <cstdint>

#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace nexus::runtime {
class definition_catalog;
struct cluster_meters;
}

namespace nexus::actors {

/// The interface of a cluster's dispatcher, checked by the compiler
/// wherever it is held: a step target that runs calls handed on by
/// breakers, takes nodes and their results, and ends the run;
/// `(flush_atom)` and `(sweep_atom)` are its own timers'.
using cluster_dispatcher = step_target::extend<
  handed_call, caf::reacts_to<result_atom, result_batch>,
  caf::reacts_to<join_atom, caf::actor, std::string, std::vector<std::string>, std::uint32_t>,
  caf::replies_to<close_atom>::with<bool>, caf::replies_to<nodes_atom>::with<std::uint32_t>,
  caf::reacts_to<flush_atom>, caf::reacts_to<sweep_atom>>;

/// The coordinator's side of a cluster: one dispatcher for the calls of
/// every step, in the place of the stages (sagas and breakers call it as
/// they would a stage, with the same protocol and answers).
///
/// It sends each call to the least loaded node that serves the call's step
/// and has room (fewest calls in flight for its capacity): a request
/// `(execute_atom, step_call)` -> `step_result` to that node's stage for
/// the step (handed over when the node joined, and known to no one else). Calls no node can take yet wait, at most `queue_bound`
/// (beyond, a call is refused as `circuit_open`, as a full stage does). It
/// monitors every node: when one is lost, its calls in flight go again, with
/// their idempotency keys, to another node, or wait for one to join.
/// `(join_atom, endpoint, name, steps, stages, capacity)` adds a node (from
/// the gateway, or the local endpoint at start); the endpoint is watched. `(close_atom)` tells every node
/// the run has ended. `(nodes_atom)` -> `uint32_t` nodes that have joined.
/// Each node is sent, with the first call of a saga definition it gets,
/// that definition (looked up in `definitions`, which may be null and must
/// outlive the dispatcher), so that it runs the call as the saga's own
/// definition says. Joins and losses are counted in `meters` (null: none).
cluster_dispatcher spawn_dispatcher(caf::actor_system& sys, std::uint64_t queue_bound,
                                    const runtime::definition_catalog* definitions = nullptr,
                                    runtime::cluster_meters* meters = nullptr);

} // namespace nexus::actors
