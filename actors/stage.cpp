#include "actors/stage.hpp"

#include <chrono>
#include <unordered_map>

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>

#include "runtime/messages.hpp"
#include "runtime/simulate.hpp"

namespace nexus::actors {

namespace {

step_result to_message(const runtime::outcome& o) {
  return {o.ok, o.output, static_cast<std::uint8_t>(o.kind), o.message, o.retry_after_ms};
}

struct worker_state {
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, std::pair<caf::response_promise, step_result>> waiting;
  static inline const char* name = "nexus.stage_worker";
};

using worker_actor = caf::stateful_actor<worker_state>;

caf::behavior worker(worker_actor* self, const config::step_spec* step) {
  return {
    [=](execute_atom, const step_call& call) -> caf::result<step_result> {
      const auto& action = call.compensate && step->compensate ? *step->compensate : step->action;
      auto o = runtime::simulate(action.simulate, call.cid, call.step, call.attempt,
                                 call.compensate);
      if (action.simulate.latency_ms == 0)
        return to_message(o);
      auto id = self->state.next_id++;
      self->state.waiting.emplace(id, std::make_pair(self->make_response_promise(), to_message(o)));
      self->delayed_send(self, std::chrono::milliseconds(action.simulate.latency_ms),
                         tick_atom::value, id);
      return caf::delegated<step_result>{};
    },
    [=](tick_atom, std::uint64_t id) {
      auto i = self->state.waiting.find(id);
      if (i == self->state.waiting.end())
        return;
      i->second.first.deliver(std::move(i->second.second));
      self->state.waiting.erase(i);
    },
  };
}

} // namespace

caf::actor spawn_stage(caf::actor_system& sys, const config::step_spec& step,
                       std::uint32_t workers) {
  auto factory = [&sys, s = &step] { return sys.spawn(worker, s); };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

} // namespace nexus::actors
