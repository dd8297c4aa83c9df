#include "actors/step_wiring.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/cluster/host.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

bool wire_steps(caf::actor_system& sys, const config::workflow& wf, const wiring_inputs& in,
                step_wiring& out, std::string& error) {
  std::map<std::string, breaker_setup> by_resource;
  std::map<std::string, std::vector<step_target>> entries;
  std::map<std::string, step_target> local;
  std::uint32_t local_capacity = 0;
  cluster_dispatcher dispatcher;
  if (in.cluster)
    dispatcher = in.cluster->start_dispatcher(sys, wf.runtime.max_in_flight);
  auto default_queue =
    static_cast<std::uint32_t>(std::min<std::uint64_t>(wf.runtime.max_in_flight, UINT32_MAX));
  for (auto& [name, saga] : wf.sagas)
    for (auto& step : saga.steps) {
      auto key = stage_key(name, step.name);
      call_runner runner = dispatcher;
      step_target entry = dispatcher;
      if (!in.cluster || in.local_stages) {
        auto stage = spawn_stage(sys, name, step, in.cores, default_queue, in.handlers);
        out.stages.push_back(stage);
        out.stage_names.push_back(key);
        local[key] = stage;
        local_capacity += stage_workers(step, in.cores);
        if (!in.cluster) {
          runner = stage;
          entry = stage;
        }
      }
      entries[name].push_back(entry);
      if (!step.resource.empty())
        by_resource[step.resource].stages[key] = runner;
    }
  if (in.cluster && in.local_stages)
    in.cluster->join_local(sys, std::move(local), local_capacity);
  std::map<std::string, breaker_actor> breaker_of;
  for (auto& [resource, setup] : by_resource) {
    auto spec = wf.breakers.find(resource);
    setup.resource = resource;
    setup.spec = spec != wf.breakers.end() ? &spec->second : in.default_breaker;
    setup.writer = in.writer;
    storage::status s = storage::status::ok();
    setup.stored = in.log->find_breaker(resource, s);
    if (!s) {
      error = s.message();
      return false;
    }
    breaker_of[resource] = spawn_breaker(sys, std::move(setup));
    out.breakers.push_back(breaker_of[resource]);
  }
  for (auto& [name, saga] : wf.sagas) {
    auto& list = entries[name];
    for (std::size_t i = 0; i < saga.steps.size(); ++i)
      if (!saga.steps[i].resource.empty())
        list[i] = breaker_of.at(saga.steps[i].resource);
    out.targets[name] = std::move(list);
  }
  return true;
}

} // namespace nexus::actors
