#include "actors/stage.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "runtime/meters.hpp"
#include "runtime/bulkhead.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/executors.hpp"
#include "runtime/logging.hpp"
#include "runtime/crash_point.hpp"
#include "actors/messages.hpp"
#include "actors/owed_answer.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/simulate.hpp"
#include "runtime/message_tally.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

// Defaults when a step does not set `concurrency` and `queue`.
constexpr std::uint32_t simulate_workers_per_core = 64;
constexpr std::uint32_t blocking_workers_per_core = 4;

runtime::outcome timed_out(const step_call& call, const char* why) {
  return runtime::outcome::failure(config::error_kind::timeout,
                                   "step " + call.step + " attempt " + std::to_string(call.attempt)
                                     + ": " + why);
}

struct worker_setup {
  const config::step_spec* step = nullptr; ///< For calls that name no definition.
  const runtime::handler_registry* handlers = nullptr;
  const runtime::definition_catalog* definitions = nullptr; ///< May be null.
};

/// The step `call` runs: as the definition its saga runs on gives it, so a
/// saga started before the workflow file changed runs what it started with.
const config::step_spec* step_of(const worker_setup& setup, const step_call& call) {
  if (call.definition == 0 || setup.definitions == nullptr)
    return setup.step;
  auto* saga = setup.definitions->find(call.definition);
  auto i = saga != nullptr ? saga->find_step(call.step) : -1;
  return i >= 0 ? &saga->steps[static_cast<std::size_t>(i)] : nullptr;
}

/// Who to tell an attempt's outcome besides the saga: the breaker that let
/// the call through (null when the call came straight from a saga).
struct reporter {
  outcome_listener breaker;
  std::uint64_t call = 0;

  void tell(const step_result& r) const {
    if (breaker)
      caf::anon_send(breaker, report_atom::value, call, r.outcome.ok,
                     static_cast<std::uint8_t>(r.outcome.kind));
  }
};

// -- workers: one call at a time ----------------------------------------------

struct worker_state {
  stage_actor stage; ///< Told when this worker is free.
  std::uint32_t index = 0;
  /// A simulated call waiting out its latency (it holds no thread meanwhile).
  caf::response_promise promise;
  step_result result;
  reporter report;
  static inline const char* name = "nexus.stage_worker";
};

using worker_actor = caf::stateful_actor<worker_state>;

void free_worker(worker_actor* self) {
  self->send(self->state.stage, ready_atom::value, self->state.index);
}

/// A simulated attempt: CPU work on this thread, then its latency as a timer.
caf::result<step_result> simulate(worker_actor* self, const config::simulate_action& a,
                                  const step_call& call, std::int64_t left_us,
                                  const reporter& report) {
  if (a.cpu_ms > 0)
    runtime::burn_cpu(std::min<std::uint64_t>(a.cpu_ms, static_cast<std::uint64_t>(left_us / 1000)),
                      call.attempt);
  auto o = runtime::simulate(a, call.cid, call.step, call.attempt, call.compensate);
  auto delay_us = static_cast<std::int64_t>(a.latency_ms) * 1000;
  if (delay_us >= left_us) {
    o = timed_out(call, "the simulated latency outlasts the step's timeout");
    delay_us = left_us;
  }
  auto r = step_result::answer(call, o);
  if (delay_us <= 0) {
    report.tell(r);
    free_worker(self);
    return r;
  }
  auto& st = self->state;
  st.promise = self->make_response_promise();
  st.result = std::move(r);
  st.report = report;
  self->delayed_send(self, std::chrono::microseconds(delay_us), latency_atom::value);
  return caf::delegated<step_result>{};
}

caf::behavior worker(worker_actor* self, worker_setup setup, stage_actor stage,
                     std::uint32_t index) {
  self->state.stage = std::move(stage);
  self->state.index = index;
  return {
    [=](execute_atom, const step_call& call, const outcome_listener& breaker,
        std::uint64_t id) -> caf::result<step_result> {
      runtime::count_message();
      reporter report{breaker, id};
      auto* step = step_of(setup, call);
      step_result r;
      if (step == nullptr || (call.compensate && !step->compensate)) {
        // Never so for a call of this process's own sagas; a damaged
        // message, or a worker sent a call without its definition.
        r = step_result::failure(call, config::error_kind::permanent,
                                 step == nullptr ? "this node does not know the definition of "
                                                   "saga " + call.saga + " that step "
                                                   + call.step + " belongs to"
                                                 : "step " + call.step + " has no compensation "
                                                   "in its saga's definition");
        report.tell(r);
        free_worker(self);
        return r;
      }
      const auto& action = call.compensate ? *step->compensate : step->action;
      auto left_us = call.deadline_us - storage::now_us();
      if (left_us <= 0) {
        r = step_result::answer(call, timed_out(call, "its time ran out before a worker was free"));
      } else if (action.kind == config::action_kind::simulate) {
        return simulate(self, action.simulate, call, left_us, report);
      } else {
        runtime::step_context ctx{call.cid,
                                  call.saga,
                                  call.step,
                                  call.attempt,
                                  call.compensate,
                                  runtime::idempotency_key(call.cid, call.step, call.compensate),
                                  call.input,
                                  std::max<std::int64_t>(1, (left_us + 999) / 1000),
                                  call.traceparent(),
                                  call.tracestate};
        r = step_result::answer(call, runtime::run_blocking(action, ctx, setup.handlers));
        runtime::crash_point("effect");
      }
      report.tell(r);
      free_worker(self);
      return r;
    },
    [=](latency_atom) {
      runtime::count_message();
      auto& st = self->state;
      st.report.tell(st.result);
      st.promise.deliver(std::move(st.result));
      free_worker(self);
    },
  };
}

// -- the stage: a bulkhead with a bounded queue --------------------------------

/// A call waiting for a worker. Every in-flight saga may have one here, so
/// it keeps only what the stage cannot supply itself (not its saga's and
/// step's names) and whom to answer.
struct queued_call {
  owed_answer reply; ///< The caller: the worker it is delegated to answers it.
  std::string cid;
  std::string input;
  std::int64_t deadline_us = 0;
  std::uint64_t definition = 0; ///< Of its saga: which action it runs.
  std::uint32_t attempt = 0;
  bool compensate = false;
  reporter report;
  std::uint64_t trace_hi = 0, trace_lo = 0, span = 0; ///< As step_call has them.
  std::uint8_t trace_flags = 0;
  std::string tracestate;
  std::int64_t sent_us = 0;
};

/// What the stage keeps of the call a worker runs, to answer for it if
/// the worker overruns (a handler that hangs must not leave a saga waiting).
struct running_call {
  std::chrono::steady_clock::time_point started;
  owed_answer reply; ///< Used only if the worker overruns.
  std::string cid;
  std::string step;
  std::uint32_t attempt = 0;
  bool compensate = false;
  std::int64_t give_up_us = 0;
  bool answered = false;
  config::trace_context trace; ///< The call's: its trace, and the attempt's span.
  std::int64_t sent_us = 0;
};

struct stage_state {
  std::string stage; ///< `<saga>/<step>`, in pressure messages.
  std::string saga;  ///< Of the step it serves.
  std::string step;
  std::vector<caf::actor> workers;
  std::vector<std::uint32_t> idle;
  std::vector<running_call> running; ///< By worker.
  runtime::sweep_timer sweep;
  std::deque<queued_call> queue;
  /// What becomes of a call, and when the watcher is told to hold back.
  std::optional<runtime::bulkhead> policy;
  pressure_listener watcher;
  stage_stats stats;
  runtime::step_meters* meters = nullptr; ///< Null: none.
  worker_setup setup; ///< What its workers run, for the calls it runs itself.
  static inline const char* name = "nexus.stage";
};

using stage_self = stage_actor::stateful_pointer<stage_state>;

/// Tells the watcher when the queue is full, and when it has half emptied.
void update_pressure(stage_self self) {
  auto& st = self->state;
  if (st.meters)
    st.meters->queued.store(static_cast<std::uint32_t>(st.queue.size()), std::memory_order_relaxed);
  auto change = st.policy->pressure(st.queue.size());
  if (change && st.watcher)
    self->send(st.watcher, pressure_atom::value, st.stage, *change);
}

void arm_sweep(stage_self self) {
  if (self->state.sweep.arm())
    self->delayed_send(self, std::chrono::milliseconds(runtime::sweep_timer::interval_ms),
                       sweep_atom::value);
}

/// The call `q` was made with (its input moved out of `q`).
step_call unqueue(stage_self self, queued_call& q) {
  auto& st = self->state;
  step_call call{std::move(q.cid), st.saga, st.step, q.attempt, q.compensate, std::move(q.input),
                 q.deadline_us, q.definition};
  call.trace_hi = q.trace_hi;
  call.trace_lo = q.trace_lo;
  call.span = q.span;
  call.trace_flags = q.trace_flags;
  call.tracestate = std::move(q.tracestate);
  call.sent_us = q.sent_us;
  return call;
}

void hand_to(stage_self self, std::uint32_t w, owed_answer reply, const step_call& call) {
  auto& st = self->state;
  st.running[w] = {std::chrono::steady_clock::now(), std::move(reply), call.cid, call.step,
                   call.attempt, call.compensate,
                   call.deadline_us + std::chrono::microseconds(overrun_grace).count(), false,
                   call.trace(), call.sent_us};
  arm_sweep(self);
  auto running = static_cast<std::uint32_t>(st.workers.size() - st.idle.size());
  st.stats.peak_running = std::max(st.stats.peak_running, running);
  if (st.meters)
    st.meters->busy.store(running, std::memory_order_relaxed);
}

/// Counts a call that took `ms`, on a worker or on the stage itself.
void count_call(stage_self self, double ms, bool compensate) {
  auto& st = self->state;
  st.policy->took(ms);
  ++st.stats.calls;
  if (st.meters) {
    st.meters->calls.fetch_add(1, std::memory_order_relaxed);
    st.meters->duration[compensate ? 1 : 0].observe(static_cast<std::int64_t>(ms * 1000));
  }
}

/// The simulated action `call` runs if it takes no time (no latency, no
/// CPU): the stage runs such a call itself, at once, where a worker would
/// only take it and hand it back (two messages more a call). Null: any
/// other action, which a worker runs.
const config::simulate_action* instant_simulation(const worker_setup& setup,
                                                  const step_call& call) {
  auto* step = step_of(setup, call);
  if (step == nullptr || (call.compensate && !step->compensate))
    return nullptr;
  auto& action = call.compensate ? *step->compensate : step->action;
  if (action.kind != config::action_kind::simulate || action.simulate.latency_ms != 0
      || action.simulate.cpu_ms != 0)
    return nullptr;
  return &action.simulate;
}

/// Runs an instant simulated call (see instant_simulation) on the stage,
/// counted as a worker's call would be.
step_result run_instant(stage_self self, const config::simulate_action& a, const step_call& call,
                        const reporter& report) {
  auto& st = self->state;
  auto began = std::chrono::steady_clock::now();
  auto r = step_result::answer(
    call, call.deadline_us <= storage::now_us()
            ? timed_out(call, "its time ran out before a worker was free")
            : runtime::simulate(a, call.cid, call.step, call.attempt, call.compensate));
  report.tell(r);
  auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began);
  count_call(self, took.count(), call.compensate);
  st.stats.peak_running = std::max<std::uint32_t>(
    st.stats.peak_running, static_cast<std::uint32_t>(st.workers.size() - st.idle.size()) + 1);
  return r;
}

caf::result<step_result> accept(stage_self self, step_call&& call, reporter report) {
  auto& st = self->state;
  auto decision = st.policy->admit(st.idle.size(), st.queue.size());
  if (decision.what == runtime::bulkhead::admission::run) {
    // It needs a free worker as any call does (the bulkhead's bound holds),
    // but leaves it free.
    if (auto* instant = instant_simulation(st.setup, call))
      return run_instant(self, *instant, call, report);
    auto w = st.idle.back();
    st.idle.pop_back();
    hand_to(self, w, owed_answer::current(self), call);
    self->delegate(st.workers[w], execute_atom::value, std::move(call), report.breaker,
                   report.call);
    return caf::delegated<step_result>{};
  }
  if (decision.what == runtime::bulkhead::admission::refuse) {
    // A bulkhead that is full refuses, as an open breaker does: the saga
    // waits and tries again without using up an attempt.
    ++st.stats.refused;
    if (st.meters)
      st.meters->refused.fetch_add(1, std::memory_order_relaxed);
    update_pressure(self);
    auto r = step_result::failure(call, config::error_kind::circuit_open,
                                  st.policy->refusal(st.stage, st.queue.size()),
                                  decision.retry_after_ms);
    report.tell(r);
    return r;
  }
  st.queue.push_back({owed_answer::current(self), std::move(call.cid),
                      std::move(call.input), call.deadline_us, call.definition, call.attempt,
                      call.compensate, std::move(report), call.trace_hi, call.trace_lo, call.span,
                      call.trace_flags, std::move(call.tracestate), call.sent_us});
  arm_sweep(self);
  st.stats.peak_queued = std::max(st.stats.peak_queued, static_cast<std::uint32_t>(st.queue.size()));
  update_pressure(self);
  return caf::delegated<step_result>{};
}

stage_actor::behavior_type stage(stage_self self, std::string saga, std::uint32_t bound,
                         worker_setup setup, std::uint32_t workers, bool blocks,
                         runtime::step_meters* meters) {
  auto& st = self->state;
  st.meters = meters;
  st.setup = setup;
  if (meters)
    meters->staged.store(true, std::memory_order_relaxed);
  st.step = setup.step->name;
  st.stage = saga + "/" + st.step;
  st.saga = std::move(saga);
  st.policy.emplace(workers, bound);
  auto me = caf::actor_cast<stage_actor>(self);
  for (std::uint32_t i = 0; i < workers; ++i) {
    st.workers.push_back(blocks ? self->spawn<caf::detached>(worker, setup, me, i)
                                : self->spawn(worker, setup, me, i));
    st.idle.push_back(workers - 1 - i);
  }
  st.running.resize(workers);
  // Workers stop with their stage, however it ends (an exit message of
  // reason `normal` would not stop them).
  self->attach_functor([ws = st.workers](const caf::error&) {
    for (auto& w : ws)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
    [=](execute_atom, step_call& call) -> caf::result<step_result> {
      runtime::count_message();
      return accept(self, std::move(call), {});
    },
    [=](execute_atom, step_call& call, outcome_listener& breaker,
        std::uint64_t id) -> caf::result<step_result> {
      runtime::count_message();
      return accept(self, std::move(call), {std::move(breaker), id});
    },
    [=](ready_atom, std::uint32_t w) {
      runtime::count_message();
      auto& st = self->state;
      auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                            - st.running[w].started);
      count_call(self, took.count(), st.running[w].compensate);
      if (st.queue.empty()) {
        st.idle.push_back(w);
        if (st.meters)
          st.meters->busy.store(static_cast<std::uint32_t>(st.workers.size() - st.idle.size()),
                                std::memory_order_relaxed);
        return;
      }
      auto q = std::move(st.queue.front());
      st.queue.pop_front();
      auto call = unqueue(self, q);
      hand_to(self, w, q.reply, call);
      // Delegated: the worker answers the caller, as for a call it got at once.
      std::move(q.reply).promise(self).delegate(st.workers[w], execute_atom::value, std::move(call),
                                                std::move(q.report.breaker), q.report.call);
      update_pressure(self);
    },
    [=](sweep_atom) {
      runtime::count_message();
      auto& st = self->state;
      st.sweep.fired();
      auto now = storage::now_us();
      std::vector<bool> idle(st.workers.size(), false);
      for (auto w : st.idle)
        idle[w] = true;
      for (std::uint32_t w = 0; w < st.running.size(); ++w) {
        auto& c = st.running[w];
        if (idle[w] || c.answered || now < c.give_up_us)
          continue;
        c.answered = true; // the worker's own answer, if it comes, is stale
        runtime::log_context ctx{c.cid, st.saga, c.step, c.attempt};
        ctx.trace = &c.trace;
        ctx.span = c.trace.span;
        runtime::log(spdlog::level::warn, ctx,
                     "the attempt overran its timeout on a worker of stage {}: answered as a "
                     "timeout; the worker is busy until it returns",
                     st.stage);
        step_result r;
        r.outcome = runtime::outcome::failure(config::error_kind::timeout,
                                              "step " + c.step + " attempt "
                                                + std::to_string(c.attempt)
                                                + ": its worker did not return within the "
                                                  "step's timeout");
        r.step = c.step;
        r.attempt = c.attempt;
        r.compensate = c.compensate;
        r.sent_us = c.sent_us;
        std::move(c.reply).promise(self).deliver(std::move(r));
      }
      for (auto i = st.queue.begin(); i != st.queue.end();) {
        if (now < i->deadline_us) {
          ++i;
          continue;
        }
        auto call = unqueue(self, *i);
        auto r = step_result::answer(call, timed_out(call, "its time ran out while it waited for a worker"));
        i->report.tell(r);
        std::move(i->reply).promise(self).deliver(std::move(r));
        i = st.queue.erase(i);
      }
      update_pressure(self);
      if (st.idle.size() < st.workers.size() || !st.queue.empty())
        arm_sweep(self);
    },
    // The protocol: whoever sends watch_atom takes pressure messages.
    [=](watch_atom) {
      runtime::count_message();
      self->state.watcher = caf::actor_cast<pressure_listener>(self->current_sender());
    },
    [=](stats_atom) -> stage_stats {
      runtime::count_message();
      auto& st = self->state;
      auto s = st.stats;
      s.running = static_cast<std::uint32_t>(st.workers.size() - st.idle.size());
      s.queued = static_cast<std::uint32_t>(st.queue.size());
      return s;
    },
  };
}

} // namespace

std::uint32_t stage_workers(const config::step_spec& step, std::uint32_t cores) {
  bool blocks = step.action.blocks() || (step.compensate && step.compensate->blocks());
  return step.concurrency > 0
           ? step.concurrency
           : cores * (blocks ? blocking_workers_per_core : simulate_workers_per_core);
}

stage_actor spawn_stage(caf::actor_system& sys, const std::string& saga,
                       const config::step_spec& step, std::uint32_t cores,
                       std::uint32_t default_queue, const runtime::handler_registry* handlers,
                       const runtime::definition_catalog* definitions, bool blocks,
                       runtime::step_meters* meters) {
  blocks = blocks || step.action.blocks() || (step.compensate && step.compensate->blocks());
  auto workers = stage_workers(step, cores);
  auto bound = std::max<std::uint32_t>(1, step.queue > 0 ? step.queue : default_queue);
  return sys.spawn(stage, saga, bound, worker_setup{&step, handlers, definitions}, workers,
                   blocks, meters);
}

} // namespace nexus::actors
