#include "actors/saga_actor.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "runtime/messages.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

using runtime::command;
using runtime::transition;

struct saga_state {
  std::shared_ptr<runtime::saga_machine> machine;
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

/// How long past an attempt's timeout the saga waits for its stage to say
/// so itself (after killing an exec child) before giving up on the answer.
constexpr std::chrono::milliseconds stage_grace{2000};

runtime::outcome from_error(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return runtime::outcome::failure(config::error_kind::timeout,
                                     "the stage did not answer within the step's timeout");
  return runtime::outcome::failure(config::error_kind::transient,
                                   "stage unavailable: " + caf::to_string(err));
}

void call_stage(saga_actor* self, const command& cmd) {
  auto& m = *self->state.machine;
  auto& spec = m.spec().steps[cmd.step];
  bool comp = cmd.type == command::kind::compensate;
  auto timeout = std::chrono::milliseconds(spec.timeout_ms);
  step_call call{m.cid(),  m.spec().name, spec.name, cmd.attempt, comp,
                 m.idempotency_key(cmd.step, comp), m.step_input(cmd.step),
                 storage::now_us() + static_cast<std::int64_t>(spec.timeout_ms) * 1000};
  auto step = cmd.step;
  auto attempt = cmd.attempt;
  auto finished = [self, step, attempt, comp](const runtime::outcome& o) {
    transition t;
    auto now = storage::now_us();
    if (comp)
      self->state.machine->compensation_finished(step, attempt, o, now, t);
    else
      self->state.machine->step_finished(step, attempt, o, now, t);
    commit(self, std::move(t));
  };
  self->request((*self->state.links.stages)[step], timeout + stage_grace, execute_atom::value,
                std::move(call))
    .then([finished](step_result& r) { finished(from_message(r)); },
          [finished](caf::error& err) { finished(from_error(err)); });
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

caf::behavior saga(saga_actor* self, std::shared_ptr<runtime::saga_machine> machine,
                   std::string input, saga_links links) {
  self->state.machine = std::move(machine);
  self->state.links = links;
  transition t;
  auto now = storage::now_us();
  if (self->state.machine->last_seq() == 0)
    self->state.machine->start(std::move(input), now, t);
  else
    self->state.machine->resume(now, t);
  commit(self, std::move(t));
  return {
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

caf::actor spawn_saga(caf::actor_system& sys, std::shared_ptr<runtime::saga_machine> machine,
                      std::string input, const saga_links& links) {
  return sys.spawn(saga, std::move(machine), std::move(input), links);
}

} // namespace nexus::actors
