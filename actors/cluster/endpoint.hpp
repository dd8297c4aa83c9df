#pragma once

#include <map>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace nexus::actors {

/// A node's endpoint: it stands for the node and its `stages` (by step key).
/// On a worker, `(join_atom, gateway, join_request)` -> `std::string` joins
/// through the coordinator's gateway, handing over the stages; the endpoint
/// then quits with reason `normal` when the coordinator ends its run
/// (`close_atom`, taken only from that coordinator's node), and with
/// `remote_link_unreachable` when the coordinator is lost.
caf::actor spawn_endpoint(caf::actor_system& sys, std::map<std::string, caf::actor> stages);

} // namespace nexus::actors
