#include "actors/saga_actor.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "runtime/crash_point.hpp"
#include "actors/messages.hpp"
#include "runtime/saga_log.hpp"
#include "runtime/saga_admission.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/saga_writes.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

using runtime::command;
using runtime::transition;

struct held_commands {
  bool awaits_ack = false; ///< Its events are on their way to the log.
  std::vector<command> commands;
  /// A signal's sender, answered once these events are durable.
  std::optional<caf::response_promise> answer;
};

struct saga_state {
  /// Held here, not behind a pointer: it is most of what a waiting saga costs.
  std::optional<runtime::saga_machine> machine;
  std::shared_ptr<const saga_links> links;
  /// Commands not yet issued, oldest first: those of transitions whose
  /// events the writer has not yet acknowledged (it acknowledges in order),
  /// and those of later transitions without events, which keep their turn.
  /// Empty, with nothing allocated, while the saga waits on a step.
  std::vector<held_commands> held;
  static inline const char* name = "nexus.saga";
};

using saga_actor = caf::stateful_actor<saga_state>;

/// Sends one attempt to the step's stage (or its breaker). The answer comes
/// back as a plain `step_result` message: the stage answers every call,
/// a timed-out one too, so the saga holds no timer while it waits.
void call_stage(saga_actor* self, const command& cmd) {
  auto& m = *self->state.machine;
  auto& spec = m.spec().steps[cmd.step];
  bool comp = cmd.type == command::kind::compensate;
  auto deadline = storage::now_us() + static_cast<std::int64_t>(spec.timeout_ms) * 1000;
  // A forward attempt gets no more than the saga's time left, so that its
  // program is killed, or its request aborted, when the deadline cuts it.
  if (!comp && m.deadline_us() != 0)
    deadline = std::min(deadline, m.deadline_us());
  step_call call{m.cid(), m.spec().name, spec.name, cmd.attempt, comp, m.step_input(cmd.step),
                 deadline, m.spec().id};
  self->send(self->state.links->stages[cmd.step], execute_atom::value, std::move(call));
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
        self->delayed_send(self, std::chrono::microseconds(delay), retry_due_atom::value, cmd.step,
                           cmd.attempt, cmd.compensation);
        break;
      }
      case command::kind::wake: {
        auto delay = std::max<std::int64_t>(0, cmd.at_us - storage::now_us());
        self->delayed_send(self, std::chrono::microseconds(delay), wake_atom::value, cmd.step,
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
        runtime::log_saga_end(m);
        self->send(self->state.links->coordinator, done_atom::value, m.cid(),
                   std::string{storage::to_string(m.status())});
        self->quit();
        return;
      }
    }
  }
}

void commit(saga_actor* self, transition&& t,
            std::optional<caf::response_promise> answer = std::nullopt) {
  auto& st = self->state;
  if (t.events.empty()) {
    if (st.held.empty())
      issue(self, t.commands);
    else if (!t.commands.empty())
      st.held.push_back({false, std::move(t.commands), std::nullopt});
    return;
  }
  runtime::log_saga_events(*st.machine, t.events);
  // Write-ahead: the commands go out only once their events are durable.
  // A plain message, not a request: the writer's answer (`ack_atom`, or an
  // error) comes back as a message, so the saga keeps no response handler.
  self->send(st.links->writer, append_atom::value, runtime::make_append(*st.machine, t));
  st.held.push_back({true, std::move(t.commands), std::move(answer)});
}

/// The writer has made the oldest unacknowledged transition durable: its
/// commands go out, and those held behind it that wait for nothing.
void acknowledged(saga_actor* self) {
  auto& st = self->state;
  auto ready = st.held.begin();
  if (ready == st.held.end() || !ready->awaits_ack)
    return;
  runtime::crash_point("ack");
  do
    ++ready;
  while (ready != st.held.end() && !ready->awaits_ack);
  std::vector<held_commands> now{std::make_move_iterator(st.held.begin()),
                                 std::make_move_iterator(ready)};
  st.held.erase(st.held.begin(), ready);
  if (st.held.empty())
    st.held.shrink_to_fit();
  for (auto& h : now) {
    if (h.answer) // before the commands: a finish quits
      h.answer->deliver(static_cast<std::uint8_t>(runtime::signal_result::stored), std::string{});
    issue(self, h.commands);
  }
}

void on_result(saga_actor* self, const step_result& r) {
  auto& m = *self->state.machine;
  auto step = m.spec().find_step(r.step);
  if (step < 0)
    return;
  transition next;
  auto now = storage::now_us();
  auto i = static_cast<std::uint32_t>(step);
  if (r.compensate)
    m.compensation_finished(i, r.attempt, r.outcome, now, next);
  else
    m.step_finished(i, r.attempt, r.outcome, now, next);
  commit(self, std::move(next));
}

/// Every message a saga takes. Sagas share one behavior that matches
/// nothing and handle their messages here, in the default handler: a
/// behavior of their own would cost each waiting saga some 200 bytes.
caf::result<caf::message> dispatch(caf::scheduled_actor* ptr, caf::message_view& msg) {
  auto self = static_cast<saga_actor*>(ptr);
  auto& xs = msg.content();
  auto& st = self->state;
  transition next;
  if (xs.match_elements<step_result>()) {
    on_result(self, xs.get_as<step_result>(0));
  } else if (xs.match_elements<ack_atom>()) {
    acknowledged(self);
  } else if (xs.match_elements<retry_due_atom, std::uint32_t, std::uint32_t, bool>()) {
    st.machine->retry_due(xs.get_as<std::uint32_t>(1), xs.get_as<std::uint32_t>(2),
                          xs.get_as<bool>(3), storage::now_us(), next);
    commit(self, std::move(next));
  } else if (xs.match_elements<wake_atom, std::uint32_t, std::uint32_t, bool>()) {
    st.machine->wake_due(xs.get_as<std::uint32_t>(1), xs.get_as<std::uint32_t>(2),
                         xs.get_as<bool>(3), storage::now_us(), next);
    commit(self, std::move(next));
  } else if (xs.match_elements<signal_atom, std::string, std::string, std::string>()) {
    auto& m = *st.machine;
    auto r = m.signal(xs.get_as<std::string>(1), xs.get_as<std::string>(2),
                      xs.get_as<std::string>(3), storage::now_us(), next);
    if (r != runtime::signal_result::stored)
      return caf::make_message(static_cast<std::uint8_t>(r),
                               std::string{storage::to_string(m.status())});
    commit(self, std::move(next), self->make_response_promise());
  } else if (xs.match_elements<deadline_atom>()) {
    st.machine->deadline_due(storage::now_us(), next);
    commit(self, std::move(next));
  } else if (xs.match_elements<cancel_atom>()) {
    bool running = st.machine->cancel(storage::now_us(), next);
    commit(self, std::move(next));
    return caf::make_message(running);
  } else {
    return caf::print_and_drop(ptr, msg);
  }
  return caf::delegated<caf::message>{}; // nothing to answer
}

/// The log refused a write (the writer's error comes back as a message).
void on_error(caf::scheduled_actor* ptr, caf::error& err) {
  auto self = static_cast<saga_actor*>(ptr);
  self->send(self->state.links->coordinator, fail_atom::value, self->state.machine->cid(),
             describe(err));
  self->quit(err);
}

/// The behavior every saga has: it matches no message (see dispatch).
const caf::behavior& shared_behavior() {
  static const caf::behavior bhvr{[](sweep_atom, sweep_atom) {}};
  return bhvr;
}

/// The state every saga has, however it began.
void begin(saga_actor* self, runtime::saga_machine&& machine,
           std::shared_ptr<const saga_links>&& links) {
  auto& st = self->state;
  st.machine.emplace(std::move(machine));
  st.links = std::move(links);
  self->set_default_handler(dispatch);
  self->set_error_handler(on_error);
}

caf::behavior started(saga_actor* self, runtime::saga_machine machine,
                      std::vector<runtime::command> commands,
                      std::shared_ptr<const saga_links> links) {
  begin(self, std::move(machine), std::move(links));
  issue(self, commands); // its first events are durable already
  return shared_behavior();
}

caf::behavior resumed(saga_actor* self, runtime::saga_machine machine,
                      std::shared_ptr<const saga_links> links) {
  begin(self, std::move(machine), std::move(links));
  transition t;
  self->state.machine->resume(storage::now_us(), t);
  commit(self, std::move(t));
  return shared_behavior();
}

} // namespace

caf::actor spawn_started_saga(caf::actor_system& sys, runtime::started_saga saga,
                              std::shared_ptr<const saga_links> links) {
  return sys.spawn(started, std::move(*saga.machine), std::move(saga.commands), std::move(links));
}

caf::actor spawn_resumed_saga(caf::actor_system& sys, runtime::saga_machine machine,
                              std::shared_ptr<const saga_links> links) {
  return sys.spawn(resumed, std::move(machine), std::move(links));
}

} // namespace nexus::actors
