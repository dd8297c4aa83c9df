#include "actors/cluster/host.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/breaker_actor.hpp"
#include "actors/cluster/dispatcher.hpp"
#include "actors/cluster/endpoint.hpp"
#include "actors/cluster/front.hpp"
#include "actors/cluster/transport.hpp"
#include "actors/engine.hpp"
#include "actors/messages.hpp"
#include "actors/stage.hpp"
#include "actors/system_config.hpp"
#include "runtime/logging.hpp"

namespace nexus::actors {

const cluster_dispatcher& cluster_host::start_dispatcher(
  caf::actor_system& sys, std::uint64_t queue_bound,
  const runtime::definition_catalog* definitions, runtime::cluster_meters* meters) {
  dispatcher_ = spawn_dispatcher(sys, queue_bound, definitions, meters);
  return dispatcher_;
}

void cluster_host::join_local(caf::actor_system& sys, std::map<std::string, step_target> stages,
                              std::uint32_t capacity) {
  std::vector<std::string> keys;
  for (auto& [key, _] : stages)
    keys.push_back(key);
  local_endpoint_ = spawn_endpoint(sys, std::move(stages));
  caf::anon_send(dispatcher_, join_atom::value, local_endpoint_, runtime::log_node(),
                 std::move(keys), capacity);
}

bool cluster_host::listen(caf::actor_system& sys, const system_config& cfg,
                          const config::workflow& wf, const cluster_options& cl,
                          const coordinator_actor& coordinator, gateway_tools tools,
                          const caf::actor& shipper, std::string& error) {
  std::vector<std::string> keys;
  for (auto& [name, saga] : wf.sagas)
    for (auto& step : saga.steps)
      keys.push_back(stage_key(name, step.name));
  gateway_ = spawn_gateway(sys, cl.token, std::move(keys), dispatcher_, coordinator,
                           std::move(tools), shipper);
  // Without TLS a front takes the connections, to turn away and log what
  // is not a CAF node, and relays the rest to the gateway on 127.0.0.1.
  auto port = publish_on(sys, gateway_, cfg.tls() ? cl.host : "127.0.0.1", cfg.tls() ? cl.port : 0);
  if (!port) {
    error = "cannot listen on " + cl.host + ":" + std::to_string(cl.port) + ": "
            + sys.render(port.error());
    return false;
  }
  gateway_port_ = *port;
  auto listening = *port;
  if (!cfg.tls()) {
    auto f = spawn_front(sys, cl.host, cl.port, gateway_port_);
    if (!f) {
      error = "cannot listen on " + cl.host + ":" + std::to_string(cl.port) + ": "
              + sys.render(f.error());
      return false;
    }
    front_ = f->first;
    listening = f->second;
  }
  spdlog::info("coordinator listening on {}:{} (cluster {}, {})", cl.host, listening,
               wf.cluster.name, cfg.tls() ? "mutual TLS" : "plain TCP");
  if (cl.on_listening)
    cl.on_listening(cl.host, listening);
  if (cl.expect_workers == 0)
    return true;
  auto want = cl.expect_workers + (local_endpoint_ ? 1u : 0u);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(cl.expect_seconds);
  caf::scoped_actor self{sys};
  std::uint32_t joined = 0;
  while (true) {
    self->request(dispatcher_, caf::infinite, nodes_atom::value)
      .receive([&](std::uint32_t n) { joined = n; }, [](caf::error&) {});
    if (joined >= want)
      return true;
    if (std::chrono::steady_clock::now() >= until) {
      error = std::to_string(joined - (local_endpoint_ ? 1u : 0u)) + " of "
              + std::to_string(cl.expect_workers) + " workers joined within "
              + std::to_string(cl.expect_seconds) + " s (--expect-workers)";
      return false;
    }
    // Polling the dispatcher, with a deadline: this runs once, at start-up.
    self->receive(caf::after(std::chrono::milliseconds(50)) >> [] {});
  }
}

void cluster_host::close(caf::actor_system& sys) {
  if (!dispatcher_)
    return;
  caf::scoped_actor self{sys};
  self->request(dispatcher_, caf::infinite, close_atom::value)
    .receive([](bool) {}, [](caf::error&) {});
}

void cluster_host::stop(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  if (front_)
    self->send_exit(front_, caf::exit_reason::user_shutdown);
  if (gateway_) {
    if (gateway_port_ != 0)
      sys.middleman().unpublish(gateway_, gateway_port_);
    self->send_exit(gateway_, caf::exit_reason::user_shutdown);
  }
  if (dispatcher_)
    self->send_exit(dispatcher_, caf::exit_reason::user_shutdown);
  if (local_endpoint_)
    self->send_exit(local_endpoint_, caf::exit_reason::user_shutdown);
}

void cluster_host::release() {
  front_ = nullptr;
  gateway_ = nullptr;
  dispatcher_ = nullptr;
  local_endpoint_ = nullptr;
}

} // namespace nexus::actors
