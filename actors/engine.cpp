#include "actors/engine.hpp"

#include <map>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/coordinator.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/retention.hpp"
#include "actors/stage.hpp"
#include "runtime/input_source.hpp"
#include "runtime/messages.hpp"
#include "runtime/step_context.hpp"
#include "runtime/system_config.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

namespace {

int fail(runtime::run_summary& summary, std::string error, int status) {
  summary.error = std::move(error);
  summary.exit_status = status;
  return status;
}

/// Names the first `handler` action whose handler is not registered.
bool handlers_present(const config::workflow& wf, const runtime::handler_registry* handlers,
                      std::string& error) {
  for (auto& [name, saga] : wf.sagas)
    for (auto& step : saga.steps)
      for (auto* a : {&step.action, step.compensate ? &*step.compensate : nullptr}) {
        if (a == nullptr || a->kind != config::action_kind::handler)
          continue;
        if (handlers == nullptr || handlers->find(a->handler) == nullptr) {
          error = "saga " + name + ", step " + step.name + ": no C++ handler is registered as "
                  + a->handler + " (handlers are registered by the program that embeds Nexus)";
          return false;
        }
      }
  return true;
}

} // namespace

int run_workflow(const config::workflow& wf, const run_options& opts,
                 runtime::run_summary& summary) {
  std::shared_ptr<runtime::input_source> input;
  std::string error;
  if (!handlers_present(wf, opts.handlers, error))
    return fail(summary, error, 2);
  if (!opts.input_path.empty()) {
    input = runtime::open_input_file(opts.input_path, error);
    if (!input)
      return fail(summary, error, 2);
  } else if (opts.generate > 0) {
    if (wf.find_saga(opts.saga) == nullptr)
      return fail(summary, "--saga " + opts.saga + ": the workflow defines no such saga", 2);
    input = runtime::make_generator(opts.saga, opts.generate);
  }
  auto log = storage::event_log::open(storage::log_options::writer(wf.runtime.data_dir, wf.runtime.durability), error);
  if (!log)
    return fail(summary, error, 1);

  runtime::system_config cfg{wf.runtime.threads};
  caf::actor_system sys{cfg};
  // Handles are declared after the system: ~actor_system waits for every
  // detached actor, so no handle to one may outlive it.
  std::map<std::string, std::vector<caf::actor>> stages;
  auto writer = spawn_event_log_writer(sys, *log, wf.runtime.batch_size);
  for (auto& [name, saga] : wf.sagas)
    for (auto& step : saga.steps)
      stages[name].push_back(spawn_stage(sys, step, cfg.threads(), opts.handlers));
  caf::actor retention;
  if (wf.runtime.retention_days > 0)
    retention = spawn_retention(sys, *log, wf.runtime.retention_days);
  auto coordinator = spawn_coordinator(sys, {&wf, log.get(), writer, &stages, input});
  spdlog::info("run started: data_dir={} threads={} max_in_flight={}", wf.runtime.data_dir,
               cfg.threads(), wf.runtime.max_in_flight);
  {
    caf::scoped_actor self{sys};
    self->request(coordinator, caf::infinite, run_atom::value)
      .receive([&](runtime::run_summary& s) { summary = std::move(s); },
               [&](caf::error& err) { fail(summary, "run failed: " + caf::to_string(err), 1); });
    self->send_exit(coordinator, caf::exit_reason::user_shutdown);
    for (auto& [_, pools] : stages)
      for (auto& pool : pools)
        self->send_exit(pool, caf::exit_reason::user_shutdown);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(coordinator, writer);
    if (retention) {
      self->send_exit(retention, caf::exit_reason::user_shutdown);
      self->wait_for(retention);
    }
  }
  spdlog::info("run ended: started={} resumed={} completed={} compensated={} failed={} events={}",
               summary.started, summary.resumed, summary.completed, summary.compensated,
               summary.failed, summary.events);
  return summary.exit_status;
}

} // namespace nexus::actors
