#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace nexus::actors {

/// Publishes `whom` at `host`:`port` (0: any free port), over TLS when the
/// system was configured with it; the port, or an error.
caf::expected<std::uint16_t> publish_on(caf::actor_system& sys, const caf::actor& whom,
                                        const std::string& host, std::uint16_t port);

/// Connects to the actor published at `host`:`port`, over TLS when the
/// system was configured with it.
caf::expected<caf::actor> connect_to(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port);

/// A front for a gateway published at 127.0.0.1:`inner_port`, listening
/// at `host`:`port` (0: any free port) and relaying every connection to
/// it. It turns away, and logs with the peer's address, a connection that
/// is not a CAF node: one whose first bytes are not a BASP handshake. CAF
/// itself drops such connections without a word. Not for TLS, whose bytes
/// are encrypted. Returns the front and its port.
caf::expected<std::pair<caf::actor, std::uint16_t>>
spawn_front(caf::actor_system& sys, const std::string& host, std::uint16_t port,
            std::uint16_t inner_port);


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
/// `tools` is empty). Anything else, and anything without the token, is
/// refused and logged.
caf::actor spawn_gateway(caf::actor_system& sys, std::string token,
                         std::vector<std::string> known_steps, caf::actor dispatcher,
                         caf::actor coordinator, gateway_tools tools = {});

/// A node's endpoint: it stands for the node and its `stages` (by step key).
/// On a worker, `(join_atom, gateway, join_request)` -> `std::string` joins
/// through the coordinator's gateway, handing over the stages; the endpoint
/// then quits with reason `normal` when the coordinator ends its run
/// (`close_atom`, taken only from that coordinator's node), and with
/// `remote_link_unreachable` when the coordinator is lost.
caf::actor spawn_endpoint(caf::actor_system& sys, std::map<std::string, caf::actor> stages);

} // namespace nexus::actors
