#include "actors/saga_actor.hpp"

#include <chrono>
#include <optional>

#include <caf/all.hpp>

#include "runtime/messages.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

using runtime::command;
using runtime::transition;

struct saga_state {
  /// Held here, not behind a pointer: it is most of what a waiting saga costs.
  std::optional<runtime::saga_machine> machine;
  saga_links links;
  static inline const char* name = "nexus.saga";
};

using saga_actor = caf::stateful_actor<saga_state>;

void commit(saga_actor* self, transition&& t);

runtime::outcome from_message(const step_result& r) {
  if (r.ok)
    return runtime::outcome::success(r.output);
  auto o = runtime::outcome::failure(static_cast<config::error_kind>(r.kind), r.message);
  o.retry_after_ms = r.retry_after_ms;
  return o;
}

/// The text of an error whose context is one string (as the writer sends),
/// without CAF's wrapping.
std::string describe(const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

/// Sends one attempt to the step's stage (or its breaker). The answer comes
/// back as a plain `step_result` message: the stage answers every call,
/// a timed-out one too, so the saga holds no timer while it waits.
void call_stage(saga_actor* self, const command& cmd) {
  auto& m = *self->state.machine;
  auto& spec = m.spec().steps[cmd.step];
  bool comp = cmd.type == command::kind::compensate;
  step_call call{m.cid(),  m.spec().name, spec.name, cmd.attempt, comp,
                 m.step_input(cmd.step),
                 storage::now_us() + static_cast<std::int64_t>(spec.timeout_ms) * 1000};
  self->send((*self->state.links.stages)[cmd.step], execute_atom::value, std::move(call));
}

void issue(saga_actor* self, const std::vector<command>& commands) {
  for (auto& cmd : commands) {
    switch (cmd.type) {
      case command::kind::execute:
      case command::kind::compensate:
        call_stage(self, cmd);
        break;
      case command::kind::schedule_retry: {
        auto delay = std::max<std::int64_t>(0, cmd.at_us - storage::now_us());
        self->delayed_send(self, std::chrono::microseconds(delay), retry_atom::value, cmd.step,
                           cmd.attempt, cmd.compensation);
        break;
      }
      case command::kind::deadline: {
        auto delay = std::max<std::int64_t>(0, cmd.at_us - storage::now_us());
        self->delayed_send(self, std::chrono::microseconds(delay), deadline_atom::value);
        break;
      }
      case command::kind::finish: {
        auto& m = *self->state.machine;
        self->send(self->state.links.coordinator, done_atom::value, m.cid(),
                   std::string{runtime::to_string(m.status())});
        self->quit();
        return;
      }
    }
  }
}

void commit(saga_actor* self, transition&& t) {
  if (t.events.empty()) {
    issue(self, t.commands);
    return;
  }
  auto req = runtime::make_append(*self->state.machine, t);
  // Write-ahead: the commands go out only once their events are durable.
  self->request(self->state.links.writer, caf::infinite, append_atom::value, std::move(req))
    .then([self, commands = std::move(t.commands)](ack_atom) { issue(self, commands); },
          [self](caf::error& err) {
            self->send(self->state.links.coordinator, fail_atom::value,
                       self->state.machine->cid(), describe(err));
            self->quit(err);
          });
}

caf::behavior saga(saga_actor* self, runtime::saga_machine machine,
                   std::string input, saga_links links) {
  self->state.machine.emplace(std::move(machine));
  self->state.links = links;
  transition t;
  auto now = storage::now_us();
  if (self->state.machine->last_seq() == 0)
    self->state.machine->start(std::move(input), now, t);
  else
    self->state.machine->resume(now, t);
  commit(self, std::move(t));
  return {
    [=](step_result& r) {
      auto& m = *self->state.machine;
      auto step = m.spec().find_step(r.step);
      if (step < 0)
        return;
      transition next;
      auto now = storage::now_us();
      auto i = static_cast<std::uint32_t>(step);
      if (r.compensate)
        m.compensation_finished(i, r.attempt, from_message(r), now, next);
      else
        m.step_finished(i, r.attempt, from_message(r), now, next);
      commit(self, std::move(next));
    },
    [=](retry_atom, std::uint32_t step, std::uint32_t attempt, bool compensation) {
      transition next;
      self->state.machine->retry_due(step, attempt, compensation, storage::now_us(), next);
      commit(self, std::move(next));
    },
    [=](deadline_atom) {
      transition next;
      self->state.machine->deadline_due(storage::now_us(), next);
      commit(self, std::move(next));
    },
    [=](cancel_atom) -> bool {
      transition next;
      bool running = self->state.machine->cancel(storage::now_us(), next);
      commit(self, std::move(next));
      return running;
    },
  };
}

} // namespace

caf::actor spawn_saga(caf::actor_system& sys, runtime::saga_machine machine,
                      std::string input, const saga_links& links) {
  return sys.spawn(saga, std::move(machine), std::move(input), links);
}

} // namespace nexus::actors
