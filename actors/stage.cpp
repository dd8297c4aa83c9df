#include "actors/stage.hpp"

#include <chrono>
#include <unordered_map>

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>

#include "runtime/executors.hpp"
#include "runtime/messages.hpp"
#include "runtime/simulate.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

/// Workers of a stage whose attempts hold a thread, unless the step says.
constexpr std::uint32_t default_blocking_workers = 8;

step_result to_message(const runtime::outcome& o) {
  return {o.ok, o.output, static_cast<std::uint8_t>(o.kind), o.message, o.retry_after_ms};
}

runtime::outcome timed_out(const step_call& call, const char* why) {
  return runtime::outcome::failure(config::error_kind::timeout,
                                   "step " + call.step + " attempt " + std::to_string(call.attempt)
                                     + ": " + why);
}

struct worker_setup {
  const config::step_spec* step = nullptr;
  const runtime::handler_registry* handlers = nullptr;
};

/// Who to tell an attempt's outcome besides the saga: the breaker that let
/// the call through (null when the call came straight from a saga).
struct reporter {
  caf::actor breaker;
  std::uint64_t call = 0;

  void tell(const step_result& r) const {
    if (breaker)
      caf::anon_send(breaker, report_atom::value, call, r.ok, r.kind);
  }
};

struct worker_state {
  struct pending {
    caf::response_promise promise;
    step_result result;
    reporter report;
  };
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, pending> waiting;
  static inline const char* name = "nexus.stage_worker";
};

using worker_actor = caf::stateful_actor<worker_state>;

/// A simulated attempt: its latency is a timer, so it occupies no thread.
caf::result<step_result> simulate(worker_actor* self, const config::simulate_action& a,
                                  const step_call& call, std::int64_t left_us,
                                  const reporter& report) {
  auto o = runtime::simulate(a, call.cid, call.step, call.attempt, call.compensate);
  auto delay_us = static_cast<std::int64_t>(a.latency_ms) * 1000;
  if (delay_us >= left_us) {
    o = timed_out(call, "the simulated latency outlasts the step's timeout");
    delay_us = left_us;
  }
  auto r = to_message(o);
  if (delay_us == 0) {
    report.tell(r);
    return r;
  }
  auto id = self->state.next_id++;
  self->state.waiting.emplace(id, worker_state::pending{self->make_response_promise(), std::move(r),
                                                       report});
  self->delayed_send(self, std::chrono::microseconds(delay_us), tick_atom::value, id);
  return caf::delegated<step_result>{};
}

caf::result<step_result> execute(worker_actor* self, const worker_setup& setup,
                                 const step_call& call, const reporter& report) {
  auto& step = *setup.step;
  const auto& action = call.compensate && step.compensate ? *step.compensate : step.action;
  auto left_us = call.deadline_us - storage::now_us();
  step_result r;
  if (left_us <= 0) {
    r = to_message(timed_out(call, "its time ran out before a worker was free"));
  } else if (action.kind == config::action_kind::simulate) {
    return simulate(self, action.simulate, call, left_us, report);
  } else {
    runtime::step_context ctx{call.cid,        call.saga,           call.step, call.attempt,
                              call.compensate, call.idempotency_key, call.input,
                              std::max<std::int64_t>(1, left_us / 1000)};
    r = to_message(runtime::run_blocking(action, ctx, setup.handlers));
  }
  report.tell(r);
  return r;
}

caf::behavior worker(worker_actor* self, worker_setup setup) {
  return {
    [=](execute_atom, const step_call& call) -> caf::result<step_result> {
      return execute(self, setup, call, {});
    },
    [=](execute_atom, const step_call& call, const caf::actor& breaker,
        std::uint64_t id) -> caf::result<step_result> {
      return execute(self, setup, call, {breaker, id});
    },
    [=](tick_atom, std::uint64_t id) {
      auto i = self->state.waiting.find(id);
      if (i == self->state.waiting.end())
        return;
      auto& p = i->second;
      p.report.tell(p.result);
      p.promise.deliver(std::move(p.result));
      self->state.waiting.erase(i);
    },
  };
}

} // namespace

caf::actor spawn_stage(caf::actor_system& sys, const config::step_spec& step,
                       std::uint32_t default_workers, const runtime::handler_registry* handlers) {
  bool blocks = step.action.blocks() || (step.compensate && step.compensate->blocks());
  auto workers = step.concurrency > 0 ? step.concurrency
                                      : (blocks ? default_blocking_workers : default_workers);
  worker_setup setup{&step, handlers};
  auto factory = [&sys, setup, blocks] {
    return blocks ? sys.spawn<caf::detached>(worker, setup) : sys.spawn(worker, setup);
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

} // namespace nexus::actors
