#pragma once

#include <map>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace nexus::runtime {
class definition_catalog;
}

namespace nexus::actors {

/// What a cluster's dispatcher sends a node's endpoint: batches of calls
/// (whose results come back as `(result_atom, result_batch)` to the
/// batches' sender) and the run's end. Checked at the dispatcher's sends.
using node_endpoint = caf::typed_actor<caf::reacts_to<execute_atom, call_batch>,
                                       caf::replies_to<close_atom>::with<bool>>;

/// A node's endpoint: it stands for the node and its `stages` (by step key).
/// On a worker, `(join_atom, gateway, join_request)` -> `std::string` joins
/// through the coordinator's gateway, handing over the stages; the endpoint
/// then quits with reason `normal` when the coordinator ends its run
/// (`close_atom`, taken only from that coordinator's node), and with
/// `remote_link_unreachable` when the coordinator is lost.
/// The definitions that come with calls are added to `definitions` (a
/// worker's, which its stages look calls up in; null: the coordinator's own
/// endpoint, whose stages know every definition already).
caf::actor spawn_endpoint(caf::actor_system& sys, std::map<std::string, step_target> stages,
                          runtime::definition_catalog* definitions = nullptr);

} // namespace nexus::actors
