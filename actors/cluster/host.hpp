#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/cluster/dispatcher.hpp"
#include "actors/cluster/gateway.hpp"
#include "actors/messages.hpp"

namespace nexus::config {
struct workflow;
}

namespace nexus::actors {

struct cluster_options;
class system_config;

/// What a coordinator runs to be a cluster's: the dispatcher that takes the
/// stages' place, this node's own endpoint when it runs steps too, and the
/// gateway workers join (behind a front that turns strangers away, without
/// TLS). The engine wires it; the host starts, publishes and stops it.
class cluster_host {
public:
  /// Spawns the dispatcher every step's calls go through.
  /// It sends nodes the definitions of their calls from `definitions`.
  const cluster_dispatcher& start_dispatcher(caf::actor_system& sys, std::uint64_t queue_bound,
                                             const runtime::definition_catalog* definitions,
                                             runtime::cluster_meters* meters = nullptr);

  /// Joins this node's `stages` (by step key) to the dispatcher.
  void join_local(caf::actor_system& sys, std::map<std::string, step_target> stages,
                  std::uint32_t capacity);

  /// Publishes the gateway as `cl` says and waits for the workers it asks
  /// for; false with `error` (exit status 1) if it cannot. A replicating
  /// leader's `shipper` is handed to the followers that ask the gateway.
  bool listen(caf::actor_system& sys, const system_config& cfg, const config::workflow& wf,
              const cluster_options& cl, const coordinator_actor& coordinator, gateway_tools tools,
              const caf::actor& shipper, std::string& error);

  /// The run has ended: workers may go (or stay for the next).
  void close(caf::actor_system& sys);

  /// Stops every actor of the host, the published gateway first.
  void stop(caf::actor_system& sys);

  /// Lets go of every handle (after stop).
  void release();

  const cluster_dispatcher& dispatcher() const { return dispatcher_; }

private:
  cluster_dispatcher dispatcher_;
  caf::actor gateway_;        ///< Published at gateway_port_.
  caf::actor front_;          ///< Without TLS: relays the listening port to the gateway.
  caf::actor local_endpoint_; ///< Runs the calls the dispatcher gives this node.
  std::uint16_t gateway_port_ = 0;
};

} // namespace nexus::actors
