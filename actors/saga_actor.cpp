#include "actors/saga_actor.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "runtime/crash_point.hpp"
#include "runtime/message_tally.hpp"
#include "runtime/meters.hpp"
#include "runtime/span_export.hpp"
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
  /// Its write parks the saga (see runtime::record_parking): once durable,
  /// with nothing held behind it, the saga leaves memory.
  bool parks = false;
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
  /// The machine's idle_until() after its last written events; -1: none
  /// (an attempt runs). What the next write's record_parking is told.
  std::int64_t idle_us = -1;
  /// Its row says parked: brought back from the log while waiting.
  bool parked = false;
  /// The timers of a saga brought back for a signal or a cancel, held
  /// until its next write is durable: dropped if that parks it again (the
  /// timer index has its wake-up), else set then, or when the timer
  /// service finds one due.
  std::unique_ptr<std::vector<command>> deferred;
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
  // Each attempt is a span of its own in the saga's trace.
  call.set_trace(m.trace(), config::attempt_span(m.trace().span, spec.name, cmd.attempt, comp));
  call.tracestate = m.tracestate();
  if (self->state.links->spans)
    call.sent_us = storage::now_us();
  self->send(self->state.links->stages[cmd.step], execute_atom::value, std::move(call));
}

/// How long until `at_us`, for a timer of CAF's: never negative, and at most
/// a century (a sleep until 9999-12-31 is legal; CAF's clock counts in
/// nanoseconds, which overflow some 292 years out). A wake timer that fires
/// early waits on (saga_machine::wake_due); retries and deadlines are
/// bounded by the workflow's limits long before that.
std::chrono::microseconds delay_until(std::int64_t at_us) {
  constexpr std::int64_t century_us = 100LL * 365 * 86400 * 1'000'000;
  return std::chrono::microseconds(std::clamp<std::int64_t>(at_us - storage::now_us(), 0, century_us));
}

/// The span of saga `m`, which has just ended.
runtime::span_record saga_span(const runtime::saga_machine& m) {
  runtime::span_record s;
  auto& t = m.trace();
  s.trace = t.trace;
  s.span = t.span;
  s.parent = t.parent;
  s.name = m.spec().name;
  s.start_us = m.started_us();
  s.end_us = storage::now_us();
  s.cid = m.cid();
  s.saga = m.spec().name;
  s.outcome = storage::to_string(m.status());
  s.error = m.status() != storage::saga_status::completed;
  if (s.error)
    s.message = "the saga ended " + s.outcome;
  return s;
}

/// The span of the attempt `r` answers, ended at `now_us`.
runtime::span_record span_of_attempt(const runtime::saga_machine& m, const step_result& r,
                                     std::int64_t now_us) {
  runtime::span_record s;
  auto& t = m.trace();
  s.trace = t.trace;
  s.span = config::attempt_span(t.span, r.step, r.attempt, r.compensate);
  s.parent = t.span;
  s.name = r.compensate ? r.step + " compensation" : r.step;
  s.start_us = r.sent_us;
  s.end_us = now_us;
  s.cid = m.cid();
  s.saga = m.spec().name;
  s.step = r.step;
  s.attempt = r.attempt;
  s.compensation = r.compensate;
  s.outcome = r.outcome.ok ? "succeeded" : std::string{config::to_string(r.outcome.kind)};
  s.error = !r.outcome.ok;
  s.message = r.outcome.ok ? std::string{} : r.outcome.message;
  return s;
}

void issue(saga_actor* self, const std::vector<command>& commands) {
  for (auto& cmd : commands) {
    switch (cmd.type) {
      case command::kind::execute:
      case command::kind::compensate:
        call_stage(self, cmd);
        break;
      case command::kind::schedule_retry:
        self->delayed_send(self, delay_until(cmd.at_us), retry_due_atom::value, cmd.step,
                           cmd.attempt, cmd.compensation);
        break;
      case command::kind::wake:
        self->delayed_send(self, delay_until(cmd.at_us), wake_atom::value, cmd.step, cmd.attempt,
                           cmd.compensation);
        break;
      case command::kind::deadline:
        self->delayed_send(self, delay_until(cmd.at_us), deadline_atom::value);
        break;
      case command::kind::finish: {
        auto& m = *self->state.machine;
        runtime::log_saga_end(m);
        if (auto* meters = self->state.links->meters)
          meters->ended(m.status(), storage::now_us() - m.started_us());
        if (auto* spans = self->state.links->spans)
          spans->submit(saga_span(m));
        self->send(self->state.links->coordinator, done_atom::value, m.cid(),
                   std::string{storage::to_string(m.status())}, m.spec().name);
        self->quit();
        return;
      }
    }
  }
}

bool is_timer(const command& cmd) {
  return cmd.type == command::kind::wake || cmd.type == command::kind::schedule_retry
         || cmd.type == command::kind::deadline;
}

/// Sets the timers held back (see saga_state::deferred).
void issue_deferred(saga_actor* self) {
  if (auto timers = std::move(self->state.deferred))
    issue(self, *timers);
}

/// The saga's parking is durable and nothing else is held: it leaves memory,
/// and the coordinator hands its wake-up time to the timer service.
void leave(saga_actor* self) {
  auto& st = self->state;
  st.deferred.reset();
  auto& m = *st.machine;
  self->send(st.links->coordinator, park_atom::value, m.cid(), m.idle_until().value_or(0));
  self->quit();
}

void commit(saga_actor* self, transition&& t,
            std::optional<caf::response_promise> answer = std::nullopt) {
  auto& st = self->state;
  if (t.events.empty()) {
    if (st.held.empty())
      issue(self, t.commands);
    else if (!t.commands.empty())
      st.held.push_back({false, false, std::move(t.commands), std::nullopt});
    return;
  }
  auto& m = *st.machine;
  runtime::log_saga_events(m, t.events);
  auto req = runtime::make_append(m, t);
  // Into the timer index or out of it, with these events: only a saga that
  // was idle or becomes so writes anything more than its events.
  auto now = storage::now_us();
  std::optional<std::int64_t> before;
  if (st.idle_us >= 0)
    before = st.idle_us;
  bool park = runtime::waits_long(m, now, st.links->passivate_after_us);
  runtime::record_parking(m, before, park, now, req);
  st.idle_us = m.idle_until().value_or(-1);
  // Write-ahead: the commands go out only once their events are durable.
  // A plain message, not a request: the writer's answer (`ack_atom`, or an
  // error) comes back as a message, so the saga keeps no response handler.
  self->send(st.links->writer, append_atom::value, std::move(req));
  st.held.push_back({true, park, std::move(t.commands), std::move(answer)});
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
  // Parked, with nothing after it: its timers are the timer index's now.
  bool leaving = now.back().parks && st.held.empty();
  st.parked = now.back().parks;
  for (auto& h : now) {
    if (h.answer) // before the commands: a finish quits
      h.answer->deliver(static_cast<std::uint8_t>(runtime::signal_result::stored), std::string{});
    if (!leaving) {
      issue(self, h.commands);
      continue;
    }
    h.commands.erase(std::remove_if(h.commands.begin(), h.commands.end(), is_timer),
                     h.commands.end());
    issue(self, h.commands);
  }
  if (leaving)
    leave(self);
  else
    issue_deferred(self);
}

void on_result(saga_actor* self, const step_result& r) {
  auto& m = *self->state.machine;
  auto step = m.spec().find_step(r.step);
  if (step < 0)
    return;
  transition next;
  auto now = storage::now_us();
  auto i = static_cast<std::uint32_t>(step);
  if (auto& meters = self->state.links->step_meters; i < meters.size())
    meters[i]->attempt_ended(r.compensate, r.outcome);
  if (auto* spans = self->state.links->spans; spans && r.sent_us != 0)
    spans->submit(span_of_attempt(m, r, now));
  if (r.compensate)
    m.compensation_finished(i, r.attempt, r.outcome, now, next);
  else
    m.step_finished(i, r.attempt, r.outcome, now, next);
  commit(self, std::move(next));
}

/// Every message a saga takes. Sagas share one behavior that matches
/// nothing and handle their messages here, in the default handler: a
/// behavior of their own would cost each waiting saga some 200 bytes.
caf::result<caf::message> dispatch_to_saga(caf::scheduled_actor* ptr, caf::message_view& msg) {
  runtime::count_message();
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
  } else if (xs.match_elements<wake_atom>()) {
    issue_deferred(self); // the timer service found its wake-up due
  } else if (xs.match_elements<signal_atom, std::string, std::string, std::string>()) {
    auto& m = *st.machine;
    auto r = m.signal(xs.get_as<std::string>(1), xs.get_as<std::string>(2),
                      xs.get_as<std::string>(3), storage::now_us(), next);
    if (r != runtime::signal_result::stored) {
      auto answer = self->make_response_promise();
      answer.deliver(static_cast<std::uint8_t>(r), std::string{storage::to_string(m.status())});
      // Brought back for a signal that changed nothing (its signal_id came
      // before): parked as its row still says, it goes again.
      if (st.parked && st.held.empty()
          && runtime::waits_long(m, storage::now_us(), st.links->passivate_after_us))
        leave(self);
      return caf::delegated<caf::message>{};
    }
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
void on_saga_error(caf::scheduled_actor* ptr, caf::error& err) {
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
  st.idle_us = st.machine->idle_until().value_or(-1);
  self->set_default_handler(dispatch_to_saga);
  self->set_error_handler(on_saga_error);
}

caf::behavior started(saga_actor* self, runtime::saga_machine machine,
                      std::vector<runtime::command> commands,
                      std::shared_ptr<const saga_links> links) {
  begin(self, std::move(machine), std::move(links));
  issue(self, commands); // its first events are durable already
  return shared_behavior();
}

caf::behavior resumed(saga_actor* self, runtime::saga_machine machine,
                      std::shared_ptr<const saga_links> links, resumed_from from) {
  begin(self, std::move(machine), std::move(links));
  auto& st = self->state;
  st.parked = from != resumed_from::log;
  transition t;
  st.machine->resume(storage::now_us(), t);
  if (from == resumed_from::park_for_request && t.events.empty()) {
    auto timers = std::make_unique<std::vector<command>>();
    for (auto& cmd : t.commands)
      if (is_timer(cmd))
        timers->push_back(cmd);
    t.commands.erase(std::remove_if(t.commands.begin(), t.commands.end(), is_timer),
                     t.commands.end());
    if (!timers->empty())
      st.deferred = std::move(timers);
  }
  commit(self, std::move(t));
  return shared_behavior();
}

} // namespace

std::size_t saga_actor_bytes() {
  return sizeof(caf::actor_storage<saga_actor>);
}

caf::actor spawn_started_saga(caf::actor_system& sys, runtime::started_saga saga,
                              std::shared_ptr<const saga_links> links) {
  return sys.spawn(started, std::move(*saga.machine), std::move(saga.commands), std::move(links));
}

caf::actor spawn_resumed_saga(caf::actor_system& sys, runtime::saga_machine machine,
                              std::shared_ptr<const saga_links> links, resumed_from from) {
  return sys.spawn(resumed, std::move(machine), std::move(links), from);
}

} // namespace nexus::actors
