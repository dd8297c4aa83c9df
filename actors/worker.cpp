#include "actors/worker.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/cluster/transport.hpp"
#include "actors/cluster/endpoint.hpp"
#include "actors/ha/node.hpp"
#include "actors/stage.hpp"
#include "runtime/meters.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/etcd_client.hpp"
#include "runtime/logging.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"

namespace nexus::actors {

namespace {

/// The steps `opts` asks for, as step keys; false naming a name that matches
/// no step.
bool served_steps(const config::workflow& wf, const worker_options& opts,
                  std::vector<std::pair<std::string, const config::step_spec*>>& out,
                  std::string& error) {
  std::map<std::string, bool> used;
  for (auto& s : opts.stages)
    used[s] = false;
  for (auto& [saga, spec] : wf.sagas)
    for (auto& step : spec.steps) {
      auto key = stage_key(saga, step.name);
      bool wanted = opts.stages.empty();
      for (const std::string* name : {&step.name, static_cast<const std::string*>(&key)})
        if (used.count(*name) > 0) {
          used[*name] = true;
          wanted = true;
        }
      if (wanted)
        out.emplace_back(saga, &step);
    }
  for (auto& [name, found] : used)
    if (!found) {
      error = "--stages: the workflow has no step " + name;
      return false;
    }
  return true;
}

} // namespace

client_end run_worker(const config::workflow& wf, const worker_options& opts,
                      std::string& error) {
  std::vector<std::pair<std::string, const config::step_spec*>> steps;
  if (!served_steps(wf, opts, steps, error))
    return client_end::refused;
  auto node = opts.node.empty() ? runtime::log_node() + ":" + std::to_string(::getpid()) : opts.node;
  runtime::set_log_node(node);
  actors::system_config cfg{opts.threads, wf.cluster};
  // Its own file's definitions, and those the coordinator sends with calls:
  // declared before the system, whose stages look calls up in it.
  runtime::definition_catalog definitions{wf};
  caf::actor_system sys{cfg};
  std::map<std::string, step_target> stages;
  std::vector<std::string> keys;
  std::uint32_t workers = 0;
  for (auto& [saga, step] : steps) {
    auto key = stage_key(saga, step->name);
    stages[key] = spawn_stage(sys, saga, *step, cfg.threads(), UINT32_MAX, opts.handlers,
                              &definitions, false,
                              opts.meters ? &opts.meters->step(saga, step->name) : nullptr);
    keys.push_back(key);
    workers += stage_workers(*step, cfg.threads());
  }
  auto capacity = opts.capacity > 0 ? opts.capacity : workers;
  auto stop_requested = [&opts] { return opts.stop != nullptr && opts.stop->load(); };
  caf::scoped_actor self{sys};
  auto status = client_end::done;
  // When looking for a coordinator stops: never without a limit.
  auto give_up_from_now = [&opts] {
    return opts.reconnect_seconds
             ? std::chrono::steady_clock::now() + std::chrono::seconds(*opts.reconnect_seconds)
             : std::chrono::steady_clock::time_point::max();
  };
  // Only read once give_up has passed, so with a limit.
  auto within = [&opts] { return std::to_string(opts.reconnect_seconds.value_or(0)) + " s"; };
  auto give_up = give_up_from_now();
  bool lost = false; // had joined, then lost the coordinator
  // Each distinct reason the attempts failed, in order: the last attempt
  // may only have timed out where an earlier one says why (a TLS handshake
  // the coordinator refused).
  std::vector<std::string> reasons;
  std::minstd_rand jitter{static_cast<unsigned>(::getpid())};
  auto backoff = std::chrono::milliseconds(100);
  // With replicated coordinators (cluster.ha) the coordinator is whoever
  // leads: looked up in etcd before each try (--join until one is known),
  // and the node stays through the changes of leader.
  auto host = opts.host;
  auto port = opts.port;
  auto stay = opts.stay || wf.cluster.ha.on();
  std::unique_ptr<runtime::etcd_client> etcd;
  if (wf.cluster.ha.on())
    etcd = std::make_unique<runtime::etcd_client>(wf.cluster.ha.etcd, std::chrono::seconds(1));
  auto find_leader = [&] {
    std::string why;
    auto key = etcd->get("/nexus/" + wf.cluster.name + "/leader", why);
    auto leader = key ? coordinator_address::from_json(key->value) : std::nullopt;
    auto colon = leader ? leader->listen.rfind(':') : std::string::npos;
    if (colon == std::string::npos)
      return;
    auto h = leader->listen.substr(0, colon);
    auto p = static_cast<std::uint16_t>(std::stoul(leader->listen.substr(colon + 1)));
    if (h != host || p != port)
      runtime::log(spdlog::level::info, {}, "the leader is {} at {}", leader->node, leader->listen);
    host = h;
    port = p;
  };
  while (!stop_requested()) {
    if (etcd)
      find_leader();
    auto gateway = connect_to(sys, host, port);
    if (!gateway) {
      auto reason = sys.render(gateway.error());
      if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end())
        reasons.push_back(std::move(reason));
      if (std::chrono::steady_clock::now() >= give_up) {
        auto where = host + ":" + std::to_string(port);
        std::string why;
        for (auto& r : reasons)
          why += (why.empty() ? "" : "; ") + r;
        // A coordinator that ended its run while this node was stopped or
        // cut off told it nothing: the loss looks like a crash from here.
        error = lost ? "the coordinator at " + where + " was lost and did not come back within "
                         + within() + ": " + why
                         + " (a coordinator that ended its run while this node could not hear it "
                           "looks the same; its sagas are in its log either way)"
                     : "no coordinator at " + where + " within " + within() + ": " + why;
        status = client_end::lost;
        break;
      }
      // Exponential backoff with jitter, then try again.
      auto wait = backoff / 2 + std::chrono::milliseconds(jitter() % (backoff.count() / 2 + 1));
      std::this_thread::sleep_for(wait);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    backoff = std::chrono::milliseconds(100);
    reasons.clear();
    auto endpoint = spawn_endpoint(sys, stages, &definitions);
    join_request req;
    req.token = opts.token;
    req.node = node;
    req.steps = keys;
    req.capacity = capacity;
    std::string why;
    bool answered = true;
    self->request(endpoint, caf::infinite, join_atom::value, *gateway, std::move(req))
      .receive([&](std::string& w) { why = std::move(w); },
               [&](caf::error& err) {
                 why = sys.render(err);
                 answered = false;
               });
    if (!answered) {
      // Reached, but no answer (a coordinator that is stopping): not a refusal.
      self->send_exit(endpoint, caf::exit_reason::user_shutdown);
      runtime::log(spdlog::level::warn, {}, "no answer to the join from {}:{} ({}): trying again",
                   host, port, why);
      if (std::chrono::steady_clock::now() >= give_up) {
        error = "no coordinator answered at " + host + ":" + std::to_string(port)
                + " within " + within() + ": " + why;
        status = client_end::lost;
        break;
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
      continue;
    }
    if (!why.empty()) {
      self->send_exit(endpoint, caf::exit_reason::user_shutdown);
      error = "the coordinator at " + host + ":" + std::to_string(port)
              + " refused this node: " + why;
      status = client_end::refused;
      break;
    }
    runtime::log(spdlog::level::info, {}, "joined the coordinator at {}:{}: {} steps, {} calls at once",
                 host, port, keys.size(), capacity);
    self->monitor(endpoint);
    caf::error reason;
    bool ended = false;
    while (!ended && !stop_requested())
      self->receive([&](caf::down_msg& dm) { reason = dm.reason; ended = true; },
                    caf::after(std::chrono::milliseconds(200)) >> [] {});
    if (!ended) { // told to stop
      self->send_exit(endpoint, caf::exit_reason::user_shutdown);
      self->wait_for(endpoint);
      break;
    }
    if (reason == caf::exit_reason::normal) {
      runtime::log(spdlog::level::info, {}, "the coordinator ended its run");
      if (!stay)
        break;
      give_up = std::chrono::steady_clock::time_point::max();
      continue;
    }
    lost = true;
    runtime::log(spdlog::level::warn, {}, "lost the coordinator at {}:{} ({}): reconnecting {}",
                 host, port, sys.render(reason),
                 opts.reconnect_seconds ? "for " + within() : "until one answers");
    give_up = give_up_from_now();
  }
  for (auto& [_, stage] : stages)
    self->send_exit(stage, caf::exit_reason::user_shutdown);
  return status;
}

} // namespace nexus::actors
