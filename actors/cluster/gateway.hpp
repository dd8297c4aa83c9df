#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/cluster/dispatcher.hpp"
#include "actors/coordinator.hpp"

namespace nexus::actors {

/// A coordinator's answer to a tool call from `nexus mcp --connect`: given
/// the tool's name and its arguments (a JSON object), whether the call
/// failed and its result (JSON) or why it failed.
using gateway_tools =
  std::function<std::pair<bool, std::string>(const std::string& tool, const std::string& arguments)>;

/// The actor a coordinator publishes: it takes `(join_atom, join_request)`
/// -> `std::string` (empty when joined, else why not) from worker
/// endpoints, checks the protocol version, the cluster token and the steps,
/// and hands the node to the dispatcher. It takes `(submit_atom, token,
/// saga_request)` -> `uint8_t` (an actors::start_result) from `nexus
/// submit`, and hands the saga to `coordinator`, which tells the submitter
/// `(done_atom, cid, status)` when it ends. It takes `(query_atom, token,
/// tool, arguments)` -> `(bool is_error, std::string result)` from `nexus
/// mcp --connect` and runs `tools` on a thread of its own (an error if
/// `tools` is empty). It takes `(follow_atom, token, node, epoch,
/// position)` -> `caf::actor` from a replicated coordinator's follower
/// (with the last batch it holds): the leader's `shipper`, which its
/// replica then follows (an error when this coordinator leads no replicated
/// log). Anything else, and anything without the token, is refused and
/// logged.
caf::actor spawn_gateway(caf::actor_system& sys, std::string token,
                         std::vector<std::string> known_steps, cluster_dispatcher dispatcher,
                         coordinator_actor coordinator, gateway_tools tools = {},
                         caf::actor shipper = {});

} // namespace nexus::actors
