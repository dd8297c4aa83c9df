#include "actors/step_wiring.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/cluster/host.hpp"
#include "runtime/meters.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

namespace {

/// One stage's step: every definition's step of that name, the first of
/// them the one that sets its capacity (the workflow file's, if it has it).
struct stage_plan {
  std::string saga;
  const config::step_spec* capacity = nullptr;
  bool blocks = false;
};

} // namespace

bool wire_steps(caf::actor_system& sys, const config::workflow& wf,
                const std::vector<const config::saga_spec*>& definitions, const wiring_inputs& in,
                step_wiring& out, std::string& error) {
  std::map<std::string, breaker_setup> by_resource;
  std::map<std::string, step_target> local;
  std::uint32_t local_capacity = 0;
  cluster_dispatcher dispatcher;
  if (in.cluster)
    dispatcher = in.cluster->start_dispatcher(sys, wf.runtime.max_in_flight, in.definitions,
                                              in.meters ? &in.meters->cluster() : nullptr);
  auto default_queue =
    static_cast<std::uint32_t>(std::min<std::uint64_t>(wf.runtime.max_in_flight, UINT32_MAX));
  std::map<std::string, stage_plan> plans;
  std::vector<std::string> order; // stages in the order first met
  for (auto* saga : definitions)
    for (auto& step : saga->steps) {
      auto key = stage_key(saga->name, step.name);
      auto [plan, fresh] = plans.try_emplace(key);
      if (fresh) {
        plan->second = {saga->name, &step, false};
        order.push_back(key);
      }
      plan->second.blocks = plan->second.blocks || step.action.blocks()
                            || (step.compensate && step.compensate->blocks());
    }
  std::map<std::string, step_target> entry_of;
  std::map<std::string, call_runner> runner_of;
  for (auto& key : order) {
    auto& plan = plans[key];
    call_runner runner = dispatcher;
    step_target entry = dispatcher;
    if (!in.cluster || in.local_stages) {
      auto stage = spawn_stage(sys, plan.saga, *plan.capacity, in.cores, default_queue,
                               in.handlers, in.definitions, plan.blocks,
                               in.meters ? &in.meters->step(plan.saga, plan.capacity->name)
                                         : nullptr);
      out.stages.push_back(stage);
      out.stage_names.push_back(key);
      local[key] = stage;
      local_capacity += stage_workers(*plan.capacity, in.cores);
      if (!in.cluster) {
        runner = stage;
        entry = stage;
      }
    }
    entry_of[key] = entry;
    runner_of[key] = runner;
  }
  for (auto* saga : definitions)
    for (auto& step : saga->steps)
      if (!step.resource.empty()) {
        auto key = stage_key(saga->name, step.name);
        by_resource[step.resource].stages[key] = runner_of.at(key);
      }
  if (in.cluster && in.local_stages)
    in.cluster->join_local(sys, std::move(local), local_capacity);
  std::map<std::string, breaker_actor> breaker_of;
  for (auto& [resource, setup] : by_resource) {
    auto spec = wf.breakers.find(resource);
    setup.resource = resource;
    setup.spec = spec != wf.breakers.end() ? &spec->second : in.default_breaker;
    setup.writer = in.writer;
    setup.meters = in.meters ? &in.meters->breaker(resource) : nullptr;
    storage::status s = storage::status::ok();
    setup.stored = in.log->find_breaker(resource, s);
    if (!s) {
      error = s.message();
      return false;
    }
    breaker_of[resource] = spawn_breaker(sys, std::move(setup));
    out.breakers.push_back(breaker_of[resource]);
  }
  for (auto* saga : definitions) {
    auto& list = out.targets[saga->id];
    for (auto& step : saga->steps)
      list.push_back(step.resource.empty() ? entry_of.at(stage_key(saga->name, step.name))
                                           : step_target{breaker_of.at(step.resource)});
  }
  return true;
}

} // namespace nexus::actors
