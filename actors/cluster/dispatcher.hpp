#pragma once

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace nexus::actors {

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
/// the run has ended. `(stats_atom)` -> `uint32_t` nodes that have joined.
caf::actor spawn_dispatcher(caf::actor_system& sys, std::uint64_t queue_bound);

} // namespace nexus::actors
