#include "runtime/saga_machine.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <simdjson.h>

#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"
#include "runtime/retry.hpp"
#include "runtime/simulate.hpp"

namespace nexus::runtime {

using storage::event;
using storage::event_type;

saga_machine::saga_machine(const config::saga_spec& spec, std::string cid)
  : spec_(spec), cid_(std::move(cid)), steps_(spec.steps.size()),
    rng_(stable_hash(cid_, 0x5a9a)) {
}

const std::string& saga_machine::tracestate() const {
  static const std::string none;
  return tracestate_ ? *tracestate_ : none;
}

void saga_machine::apply_trace(const event& e) {
  trace_ = {};
  if (auto id = config::parse_trace_id(e.trace_id)) {
    trace_.trace = *id;
    trace_.span = config::parse_span_id(e.span_id).value_or(stable_hash(cid_, 0x7ace) | 1);
    trace_.parent = config::parse_span_id(e.parent_span_id).value_or(0);
    if (e.trace_flags.size() == 2 && std::isxdigit(static_cast<unsigned char>(e.trace_flags[0]))
        && std::isxdigit(static_cast<unsigned char>(e.trace_flags[1])))
      trace_.flags = static_cast<std::uint8_t>(std::stoul(e.trace_flags, nullptr, 16));
  } else {
    // Logged before traces: one made from its ID, the same on every replay.
    trace_.trace = config::trace_id_of(stable_hash(cid_, 0x7ace0001),
                                       stable_hash(cid_, 0x7ace0002) | 1);
    trace_.span = stable_hash(cid_, 0x7ace) | 1;
  }
  if (!e.tracestate.empty())
    tracestate_ = std::make_unique<std::string>(e.tracestate);
}

std::uint32_t saga_machine::group_of(std::uint32_t step) const {
  return spec_.group_of[step];
}

double saga_machine::next_unit() {
  rng_ += 0x9E3779B97F4A7C15ull;
  return unit_from(rng_);
}

std::string idempotency_key(std::string_view cid, std::string_view step, bool compensation) {
  std::string key;
  key.reserve(cid.size() + step.size() + 12);
  key.append(cid).append("/").append(step);
  if (compensation)
    key += "/compensate";
  return key;
}

std::string saga_machine::idempotency_key(std::uint32_t step, bool compensation) const {
  return runtime::idempotency_key(cid_, spec_.steps[step].name, compensation);
}

std::string saga_machine::step_input(std::uint32_t step) const {
  std::string outputs;
  config::json_object_writer o{outputs};
  for (std::uint32_t i = 0; i < steps_.size(); ++i)
    if (!steps_[i].output.empty())
      o.raw_field(spec_.steps[i].name, steps_[i].output);
  o.finish();
  std::string out;
  config::json_object_writer w{out};
  w.raw_field("input", input_).raw_field("steps", outputs);
  if (!steps_[step].output.empty())
    w.raw_field("output", steps_[step].output);
  w.finish();
  return out;
}

storage::saga_row saga_machine::row(std::int64_t now_us) const {
  storage::saga_row r;
  r.saga = spec_.name;
  r.definition = spec_.hash;
  r.status = status_;
  r.last_seq = last_seq_;
  r.started_us = started_us_;
  r.updated_us = now_us;
  for (auto& s : steps_)
    r.steps_done += s.state == step_state::succeeded ? 1 : 0;
  r.steps_total = static_cast<std::uint32_t>(steps_.size());
  return r;
}

event& saga_machine::emit(event_type t, int step, std::int64_t now_us, transition& out) {
  auto& e = out.events.emplace_back();
  e.seq = last_seq_ + 1;
  e.ts_us = now_us;
  e.cid = cid_;
  e.type = t;
  e.saga = spec_.name;
  if (step >= 0)
    e.step = spec_.steps[static_cast<size_t>(step)].name;
  return e;
}

void saga_machine::apply(const event& e) {
  last_seq_ = e.seq;
  int idx = e.step.empty() ? -1 : spec_.find_step(e.step);
  auto* s = idx >= 0 ? &steps_[static_cast<size_t>(idx)] : nullptr;
  switch (e.type) {
    case event_type::saga_started:
      input_ = e.input.empty() ? "{}" : e.input;
      started_us_ = e.ts_us;
      apply_trace(e);
      deadline_at_us_ = spec_.deadline_ms == 0
                          ? 0
                          : e.ts_us + static_cast<std::int64_t>(spec_.deadline_ms) * 1000;
      break;
    case event_type::cancel_requested:
      cancel_requested_ = true;
      break;
    case event_type::retry_requested:
      phase_ = phase::compensating;
      status_ = saga_status::compensating;
      for (auto& p : steps_)
        if (p.state == step_state::compensation_failed) {
          p.state = step_state::succeeded; // to be compensated again, from attempt 1
          p.comp_attempt = 0;
        }
      break;
    case event_type::step_started:
      s->state = step_state::running;
      s->attempt = e.attempt;
      s->waiting = false;
      s->deadline_bounds =
          deadline_at_us_ != 0 && !spec_.steps[static_cast<size_t>(idx)].action.waits()
          && e.ts_us + static_cast<std::int64_t>(spec_.steps[static_cast<size_t>(idx)].timeout_ms) * 1000
                 >= deadline_at_us_;
      group_ = group_of(static_cast<std::uint32_t>(idx));
      break;
    case event_type::step_succeeded:
      s->state = step_state::succeeded;
      s->output = e.output.empty() ? "null" : e.output;
      if (!e.signal.empty()) { // a wait consumed the first of its signals
        auto at = pending_signal(e.signal);
        if (at >= 0)
          signals_->pending.erase(signals_->pending.begin() + at);
      }
      break;
    case event_type::step_waiting:
      s->retry_at_us = e.wake_at_us;
      s->waiting = true;
      break;
    case event_type::signal_received:
      if (!signals_)
        signals_ = std::make_unique<signal_box>();
      signals_->pending.push_back({e.signal, e.data.empty() ? "null" : e.data});
      if (!e.signal_id.empty())
        signals_->ids.push_back(e.signal_id);
      break;
    case event_type::step_failed:
      s->state = step_state::failed;
      s->last_error = e.message;
      break;
    case event_type::step_retry_scheduled:
      s->state = e.compensation ? step_state::compensation_wait : step_state::retry_wait;
      s->retry_at_us = e.retry_at_us;
      s->next_attempt = e.attempt;
      break;
    case event_type::compensation_started:
      phase_ = phase::compensating;
      status_ = saga_status::compensating;
      s->state = step_state::compensating;
      s->comp_attempt = e.attempt;
      s->waiting = false;
      group_ = group_of(static_cast<std::uint32_t>(idx));
      break;
    case event_type::compensation_succeeded:
      s->state = step_state::compensated;
      break;
    case event_type::compensation_failed:
      s->state = step_state::compensation_failed;
      s->last_error = e.message;
      break;
    case event_type::saga_completed:
      phase_ = phase::done;
      status_ = saga_status::completed;
      break;
    case event_type::saga_compensated:
      phase_ = phase::done;
      status_ = saga_status::compensated;
      break;
    case event_type::saga_failed:
      phase_ = phase::done;
      status_ = saga_status::failed;
      break;
    case event_type::saga_cancelled:
      phase_ = phase::done;
      status_ = saga_status::cancelled;
      break;
    default:
      break; // breaker events are never keyed by a saga's ID
  }
}

void saga_machine::start(std::string input_json, std::int64_t now_us, transition& out,
                         const std::string& traceparent, const std::string& tracestate) {
  auto& e = emit(event_type::saga_started, -1, now_us, out);
  e.input = std::move(input_json);
  e.definition = spec_.hash;
  // The caller's trace, continued; else a trace of the saga's own.
  auto parent = config::parse_traceparent(traceparent);
  config::trace_context t;
  if (parent) {
    t.trace = parent->trace;
    t.parent = parent->span;
    t.flags = parent->flags;
    if (config::valid_tracestate(tracestate))
      e.tracestate = tracestate;
  } else {
    t.trace = config::new_trace_id();
  }
  t.span = config::new_span_id();
  e.trace_id = t.trace_hex();
  e.span_id = config::span_hex(t.span);
  e.parent_span_id = config::span_hex(t.parent);
  char flags[3];
  std::snprintf(flags, sizeof flags, "%02x", t.flags);
  e.trace_flags = flags;
  apply(out.events.back());
  advance(now_us, out);
  if (deadline_at_us_ != 0 && !finished())
    out.commands.push_back({command::kind::deadline, 0, 0, false, deadline_at_us_});
}

bool saga_machine::deadline_passed(std::int64_t now_us) const {
  return deadline_at_us_ != 0 && now_us >= deadline_at_us_;
}

bool saga_machine::is_pivot(std::uint32_t step) const {
  // A sleep or a wait changes nothing outside: nothing to undo, no pivot.
  auto& spec = spec_.steps[step];
  return !spec.compensate && !spec.action.waits();
}

int saga_machine::pivot_group() const {
  int found = -1;
  for (std::uint32_t i = 0; i < steps_.size(); ++i)
    if (is_pivot(i) && steps_[i].state == step_state::succeeded)
      found = std::max(found, static_cast<int>(group_of(i)));
  return found;
}

void saga_machine::fail_waiting_steps(config::error_kind kind, const std::string& why,
                                      std::int64_t now_us, transition& out, bool running_too) {
  if (phase_ != phase::forward)
    return;
  auto& g = spec_.groups[group_];
  for (auto i = g.first; i < g.first + g.count; ++i) {
    auto state = steps_[i].state;
    bool running = state == step_state::running;
    // A sleep or a wait holds nothing that must finish: it ends at once.
    bool waiting = running && spec_.steps[i].action.waits();
    if (state != step_state::retry_wait && !(running_too && running) && !waiting)
      continue;
    auto& e = emit(event_type::step_failed, static_cast<int>(i), now_us, out);
    e.attempt = steps_[i].attempt;
    e.error = kind;
    e.message = running ? why + " while attempt " + std::to_string(steps_[i].attempt)
                            + (waiting ? " was waiting" : " was running") + ": abandoned"
                        : why;
    apply(e);
  }
}

std::string saga_machine::deadline_reason() const {
  return "the saga's deadline (" + std::to_string(spec_.deadline_ms) + " ms) passed";
}

void saga_machine::deadline_due(std::int64_t now_us, transition& out) {
  if (phase_ != phase::forward)
    return;
  if (!deadline_passed(now_us)) {
    out.commands.push_back({command::kind::deadline, 0, 0, false, deadline_at_us_});
    return;
  }
  // The deadline cuts what runs: its late outcome finds the step failed
  // and is ignored, and the executor was told the same deadline.
  fail_waiting_steps(config::error_kind::timeout, deadline_reason(), now_us, out, true);
  advance(now_us, out);
}

bool saga_machine::cancel(std::int64_t now_us, transition& out) {
  if (finished())
    return false;
  if (cancel_requested_)
    return true;
  apply(emit(event_type::cancel_requested, -1, now_us, out));
  fail_waiting_steps(config::error_kind::cancelled, "the saga was cancelled", now_us, out);
  advance(now_us, out);
  return true;
}

bool saga_machine::retry_compensation(std::int64_t now_us, transition& out) {
  if (status_ != saga_status::failed)
    return false;
  bool stuck = std::any_of(steps_.begin(), steps_.end(), [](const progress& p) {
    return p.state == step_state::compensation_failed;
  });
  if (!stuck)
    return false; // failed past a pivot: there is no compensation to retry
  apply(emit(event_type::retry_requested, -1, now_us, out));
  advance(now_us, out);
  return true;
}

void saga_machine::step_finished(std::uint32_t step, std::uint32_t attempt, const outcome& o,
                                 std::int64_t now_us, transition& out) {
  auto& s = steps_[step];
  if (phase_ != phase::forward || s.state != step_state::running || s.attempt != attempt)
    return; // a late or repeated outcome: already decided
  if (o.ok) {
    auto& e = emit(event_type::step_succeeded, static_cast<int>(step), now_us, out);
    e.attempt = attempt;
    e.output = o.output.empty() ? "null" : o.output;
    apply(e);
  } else {
    fail_attempt(step, attempt, o, false, now_us, out);
  }
  advance(now_us, out);
}

void saga_machine::compensation_finished(std::uint32_t step, std::uint32_t attempt,
                                         const outcome& o, std::int64_t now_us, transition& out) {
  auto& s = steps_[step];
  if (phase_ != phase::compensating || s.state != step_state::compensating
      || s.comp_attempt != attempt)
    return;
  if (o.ok) {
    auto& e = emit(event_type::compensation_succeeded, static_cast<int>(step), now_us, out);
    e.attempt = attempt;
    apply(e);
  } else {
    fail_attempt(step, attempt, o, true, now_us, out);
  }
  advance(now_us, out);
}

void saga_machine::fail_attempt(std::uint32_t step, std::uint32_t attempt, const outcome& o,
                                bool compensation, std::int64_t now_us, transition& out) {
  auto& e = emit(compensation ? event_type::compensation_failed : event_type::step_failed,
                 static_cast<int>(step), now_us, out);
  e.attempt = attempt;
  e.error = o.kind;
  e.message = o.message;
  // Timed out by the deadline: the attempt's limit was the saga's time left
  // (the executor's clock may end it a moment before the deadline timer).
  bool cut = !compensation && o.kind == config::error_kind::timeout
             && (steps_[step].deadline_bounds || deadline_passed(now_us));
  if (cut)
    e.message = deadline_reason() + " while attempt " + std::to_string(attempt)
                + " was running: " + o.message;
  apply(e);
  auto& spec = spec_.steps[step];
  auto& policy = compensation ? spec.compensate_retry : spec.retry;
  bool breaker = o.kind == config::error_kind::circuit_open;
  bool retry = false;
  if (compensation)
    retry = breaker || may_retry(policy, attempt, o.kind);
  else if (cut || cancel_requested_ || deadline_passed(now_us))
    retry = false;
  else if (breaker || pivot_group() >= 0)
    retry = o.kind != config::error_kind::cancelled; // forward past a pivot
  else
    retry = may_retry(policy, attempt, o.kind);
  if (!retry)
    return;
  // An open breaker did not try the call: the attempt is not used up.
  auto next = breaker ? attempt : attempt + 1;
  auto delay_ms = breaker ? std::max<std::int64_t>(1, o.retry_after_ms)
                          : retry_delay_ms(policy, attempt, next_unit());
  auto& r = emit(event_type::step_retry_scheduled, static_cast<int>(step), now_us, out);
  r.attempt = next;
  r.compensation = compensation;
  r.retry_at_us = now_us + delay_ms * 1000;
  apply(r);
  out.commands.push_back({command::kind::schedule_retry, step, next, compensation, r.retry_at_us});
}

void saga_machine::retry_due(std::uint32_t step, std::uint32_t attempt, bool compensation,
                             std::int64_t now_us, transition& out) {
  auto& s = steps_[step];
  if (!compensation) {
    if (phase_ != phase::forward || s.state != step_state::retry_wait || s.next_attempt != attempt)
      return;
    // A sibling in the group has failed for good: this retry would be undone.
    auto& g = spec_.groups[group_];
    for (auto i = g.first; i < g.first + g.count; ++i)
      if (steps_[i].state == step_state::failed)
        return;
    if (cancel_requested_ || deadline_passed(now_us)) {
      fail_waiting_steps(cancel_requested_ ? config::error_kind::cancelled : config::error_kind::timeout,
                         cancel_requested_ ? "the saga was cancelled" : deadline_reason(),
                         now_us, out);
      advance(now_us, out);
      return;
    }
    auto& e = emit(event_type::step_started, static_cast<int>(step), now_us, out);
    e.attempt = attempt;
    e.idempotency_key = idempotency_key(step, false);
    apply(e);
    if (begin_attempt(step, attempt, false, now_us, out))
      advance(now_us, out);
    return;
  }
  if (phase_ != phase::compensating || s.state != step_state::compensation_wait
      || s.next_attempt != attempt)
    return;
  auto& e = emit(event_type::compensation_started, static_cast<int>(step), now_us, out);
  e.attempt = attempt;
  e.idempotency_key = idempotency_key(step, true);
  apply(e);
  if (begin_attempt(step, attempt, true, now_us, out))
    advance(now_us, out);
}

void saga_machine::advance(std::int64_t now_us, transition& out) {
  for (;;) {
    bool more = false;
    if (phase_ == phase::forward)
      more = advance_forward(now_us, out);
    else if (phase_ == phase::compensating)
      more = advance_compensation(now_us, out);
    if (!more)
      return;
  }
}

bool saga_machine::advance_forward(std::int64_t now_us, transition& out) {
  auto& g = spec_.groups[group_];
  bool running = false, failed = false, all_succeeded = true;
  for (auto i = g.first; i < g.first + g.count; ++i) {
    running = running || steps_[i].state == step_state::running;
    failed = failed || steps_[i].state == step_state::failed;
    all_succeeded = all_succeeded && steps_[i].state == step_state::succeeded;
  }
  if (failed) {
    if (running) {
      // Let the siblings finish before undoing them; but one that sleeps
      // or waits has nothing to finish: it is abandoned now.
      bool abandoned = false;
      for (auto i = g.first; i < g.first + g.count; ++i) {
        if (steps_[i].state != step_state::running || !spec_.steps[i].action.waits())
          continue;
        auto& e = emit(event_type::step_failed, static_cast<int>(i), now_us, out);
        e.attempt = steps_[i].attempt;
        e.error = config::error_kind::cancelled;
        e.message = "a step of its group failed for good while attempt "
                    + std::to_string(steps_[i].attempt) + " was waiting: abandoned";
        apply(e);
        abandoned = true;
      }
      return abandoned;
    }
    phase_ = phase::compensating;
    status_ = saga_status::compensating;
    return true;
  }
  if (!all_succeeded) {
    bool ended = false; // a sleep whose time has passed, a wait whose signal is here
    for (auto i = g.first; i < g.first + g.count; ++i) {
      if (steps_[i].state != step_state::pending)
        continue;
      auto& e = emit(event_type::step_started, static_cast<int>(i), now_us, out);
      e.attempt = 1;
      e.idempotency_key = idempotency_key(i, false);
      apply(e);
      ended = begin_attempt(i, 1, false, now_us, out) || ended;
    }
    return ended;
  }
  if (cancel_requested_ || deadline_passed(now_us)) {
    phase_ = phase::compensating; // start nothing new: roll back
    status_ = saga_status::compensating;
    return true;
  }
  if (group_ + 1 < spec_.groups.size()) {
    ++group_;
    return true;
  }
  apply(emit(event_type::saga_completed, -1, now_us, out));
  out.commands.push_back({command::kind::finish, 0, 0, false, 0});
  return false;
}

bool saga_machine::advance_compensation(std::int64_t now_us, transition& out) {
  auto& g = spec_.groups[group_];
  bool busy = false;
  int failed = -1;
  for (auto i = g.first; i < g.first + g.count; ++i) {
    auto st = steps_[i].state;
    busy = busy || st == step_state::compensating || st == step_state::compensation_wait;
    if (st == step_state::compensation_failed)
      failed = static_cast<int>(i);
  }
  if (busy)
    return false;
  if (failed >= 0) {
    auto& e = emit(event_type::saga_failed, failed, now_us, out);
    e.message = "compensation of step " + spec_.steps[static_cast<size_t>(failed)].name
                + " failed for good: " + steps_[static_cast<size_t>(failed)].last_error;
    apply(e);
    out.commands.push_back({command::kind::finish, 0, 0, false, 0});
    return false;
  }
  bool started = false, ended = false;
  for (auto i = g.first; i < g.first + g.count; ++i) {
    if (steps_[i].state != step_state::succeeded || !spec_.steps[i].compensate)
      continue;
    auto& e = emit(event_type::compensation_started, static_cast<int>(i), now_us, out);
    e.attempt = 1;
    e.idempotency_key = idempotency_key(i, true);
    apply(e);
    ended = begin_attempt(i, 1, true, now_us, out) || ended;
    started = true;
  }
  if (started)
    return ended;
  // Nothing is compensated below a pivot that has succeeded.
  if (group_ > 0 && static_cast<int>(group_) != pivot_group()) {
    --group_;
    return true;
  }
  finish_rollback(now_us, out);
  return false;
}

void saga_machine::finish_rollback(std::int64_t now_us, transition& out) {
  auto pivot = pivot_group();
  if (cancel_requested_) {
    auto& e = emit(event_type::saga_cancelled, -1, now_us, out);
    if (pivot >= 0)
      e.message = "cancelled after a pivot: steps up to it stay done";
    apply(e);
  } else if (pivot >= 0) {
    std::string name;
    for (std::uint32_t i = 0; i < steps_.size(); ++i)
      if (is_pivot(i) && steps_[i].state == step_state::succeeded)
        name = spec_.steps[i].name;
    auto& e = emit(event_type::saga_failed, -1, now_us, out);
    e.message = (deadline_passed(now_us) ? deadline_reason() : std::string{"a step failed for good"})
                + " after pivot step " + name
                + ", which cannot be compensated: rolled back to it";
    apply(e);
  } else {
    apply(emit(event_type::saga_compensated, -1, now_us, out));
  }
  out.commands.push_back({command::kind::finish, 0, 0, false, 0});
}

void saga_machine::moved_from(const std::string& from_hash, std::int64_t now_us,
                              transition& out) {
  auto& e = emit(event_type::definition_changed, -1, now_us, out);
  e.definition = spec_.hash;
  e.from_definition = from_hash;
  apply(e);
}

bool saga_machine::replay(const event& e, std::string& error) {
  if (e.seq != last_seq_ + 1) {
    error = "event " + std::to_string(e.seq) + " follows " + std::to_string(last_seq_)
            + ": the sequence has a gap";
    return false;
  }
  if (e.cid != cid_) {
    error = "event " + std::to_string(e.seq) + " belongs to another saga";
    return false;
  }
  if (last_seq_ == 0 && e.type != event_type::saga_started) {
    error = "the first event is not saga_started";
    return false;
  }
  if (!e.step.empty() && spec_.find_step(e.step) < 0) {
    error = "event " + std::to_string(e.seq) + " names step " + e.step
            + ", which definition " + spec_.hash.substr(0, 12) + " of saga " + spec_.name
            + " does not have";
    return false;
  }
  bool needs_step = e.type != event_type::saga_started && e.type != event_type::saga_completed
                    && e.type != event_type::saga_compensated && e.type != event_type::saga_failed
                    && e.type != event_type::saga_cancelled && e.type != event_type::cancel_requested
                    && e.type != event_type::retry_requested
                    && e.type != event_type::definition_changed
                    && e.type != event_type::signal_received;
  if (needs_step && e.step.empty()) {
    error = "event " + std::to_string(e.seq) + " (" + std::string{storage::to_string(e.type)}
            + ") names no step";
    return false;
  }
  apply(e);
  return true;
}

void saga_machine::resume(std::int64_t now_us, transition& out) {
  if (phase_ == phase::done || last_seq_ == 0)
    return;
  auto& g = spec_.groups[group_];
  for (auto i = g.first; i < g.first + g.count; ++i) {
    auto& s = steps_[i];
    bool forward_waits = spec_.steps[i].action.waits();
    bool back_waits = spec_.steps[i].compensate && spec_.steps[i].compensate->waits();
    // A sleep or wait that recorded its wait waits on (a wait without a
    // time limit for its signal alone); one that had not, begins.
    if (phase_ == phase::forward && s.state == step_state::running && forward_waits) {
      if (!s.waiting)
        begin_attempt(i, s.attempt, false, now_us, out);
      else if (consume_signal(i, now_us, out)) // it came while no process ran the saga
        continue;
      else if (s.retry_at_us != 0)
        out.commands.push_back({command::kind::wake, i, s.attempt, false, s.retry_at_us});
    } else if (phase_ == phase::compensating && s.state == step_state::compensating
               && back_waits) {
      if (!s.waiting)
        begin_attempt(i, s.comp_attempt, true, now_us, out);
      else
        out.commands.push_back({command::kind::wake, i, s.comp_attempt, true, s.retry_at_us});
    } else if (phase_ == phase::forward && s.state == step_state::running)
      out.commands.push_back({command::kind::execute, i, s.attempt, false, 0});
    else if (phase_ == phase::forward && s.state == step_state::retry_wait)
      out.commands.push_back({command::kind::schedule_retry, i, s.next_attempt, false, s.retry_at_us});
    else if (phase_ == phase::compensating && s.state == step_state::compensating)
      out.commands.push_back({command::kind::compensate, i, s.comp_attempt, false, 0});
    else if (phase_ == phase::compensating && s.state == step_state::compensation_wait)
      out.commands.push_back({command::kind::schedule_retry, i, s.next_attempt, true, s.retry_at_us});
  }
  advance(now_us, out);
  if (deadline_at_us_ != 0 && phase_ == phase::forward)
    out.commands.push_back({command::kind::deadline, 0, 0, false, deadline_at_us_});
}

std::optional<std::int64_t> saga_machine::idle_until() const {
  if (phase_ == phase::done || last_seq_ == 0)
    return std::nullopt;
  bool forward = phase_ == phase::forward;
  std::int64_t due = never;
  bool waits = false;
  auto& g = spec_.groups[group_];
  for (auto i = g.first; i < g.first + g.count; ++i) {
    auto& s = steps_[i];
    auto& spec = spec_.steps[i];
    bool sleeping = forward ? s.state == step_state::running && spec.action.waits()
                            : s.state == step_state::compensating && spec.compensate
                                && spec.compensate->waits();
    bool backing_off = s.state == (forward ? step_state::retry_wait : step_state::compensation_wait);
    if (sleeping && !s.waiting) // its step_waiting is still to come (resume() begins it)
      return std::nullopt;
    if (!sleeping && !backing_off) {
      if (s.state == step_state::running || s.state == step_state::compensating)
        return std::nullopt; // an attempt is out
      continue;
    }
    waits = true;
    if (s.retry_at_us != 0)
      due = std::min(due, s.retry_at_us);
  }
  if (!waits) // between groups or phases: resume() moves it on
    return std::nullopt;
  if (forward && deadline_at_us_ != 0)
    due = std::min(due, deadline_at_us_);
  return due;
}

int saga_machine::pending_signal(const std::string& name) const {
  if (!signals_)
    return -1;
  for (std::size_t i = 0; i < signals_->pending.size(); ++i)
    if (signals_->pending[i].name == name)
      return static_cast<int>(i);
  return -1;
}

std::int64_t saga_machine::wake_time(std::uint32_t step, const config::action_spec& a,
                                     std::int64_t now_us, std::string& why) const {
  if (a.kind == config::action_kind::wait)
    return a.wait.timeout_ms == 0 ? 0 : now_us + static_cast<std::int64_t>(a.wait.timeout_ms) * 1000;
  if (a.sleep.until.empty())
    return now_us + static_cast<std::int64_t>(a.sleep.ms) * 1000;
  auto where = "sleep until " + a.sleep.until + ": ";
  simdjson::dom::parser parser;
  auto input = step_input(step);
  simdjson::dom::element doc, at;
  std::string_view text;
  if (parser.parse(input).get(doc) || doc.at_pointer(a.sleep.until).get(at)) {
    why = where + "the step's input has nothing there";
  } else if (at.get_string().get(text)) {
    why = where + "expected an RFC 3339 time as a string, got " + simdjson::minify(at);
  } else if (auto t = storage::parse_rfc3339(text)) {
    return std::max<std::int64_t>(*t, 1);
  } else {
    why = where + "\"" + std::string{text}
          + "\" is not an RFC 3339 time (such as 2026-12-24T18:00:00Z)";
  }
  return 0;
}

bool saga_machine::begin_attempt(std::uint32_t step, std::uint32_t attempt, bool compensation,
                                 std::int64_t now_us, transition& out) {
  auto& spec = spec_.steps[step];
  auto& a = compensation ? *spec.compensate : spec.action;
  if (!a.waits()) {
    out.commands.push_back({compensation ? command::kind::compensate : command::kind::execute,
                            step, attempt, false, 0});
    return false;
  }
  if (a.kind == config::action_kind::wait) {
    auto at = pending_signal(a.wait.signal);
    if (at >= 0) { // it came before its wait
      end_wait(step, attempt, compensation, signals_->pending[static_cast<size_t>(at)].data,
               a.wait.signal, now_us, out);
      return true;
    }
  }
  std::string why;
  auto wake = wake_time(step, a, now_us, why);
  if (!why.empty()) {
    fail_attempt(step, attempt, outcome::failure(config::error_kind::permanent, why), compensation,
                 now_us, out);
    return true;
  }
  if (a.kind == config::action_kind::sleep && wake <= now_us) {
    end_wait(step, attempt, compensation, "null", "", now_us, out);
    return true;
  }
  auto& e = emit(event_type::step_waiting, static_cast<int>(step), now_us, out);
  e.attempt = attempt;
  e.compensation = compensation;
  e.wake_at_us = wake;
  if (a.kind == config::action_kind::wait)
    e.signal = a.wait.signal;
  apply(e);
  if (wake != 0)
    out.commands.push_back({command::kind::wake, step, attempt, compensation, wake});
  return false;
}

void saga_machine::wake_due(std::uint32_t step, std::uint32_t attempt, bool compensation,
                            std::int64_t now_us, transition& out) {
  auto& s = steps_[step];
  auto& spec = spec_.steps[step];
  bool current = compensation
                   ? phase_ == phase::compensating && s.state == step_state::compensating
                       && s.comp_attempt == attempt && spec.compensate && spec.compensate->waits()
                   : phase_ == phase::forward && s.state == step_state::running
                       && s.attempt == attempt && spec.action.waits();
  if (!current || s.retry_at_us == 0)
    return; // ended by a signal, a cancel or the deadline
  if (now_us < s.retry_at_us) { // early: wait on
    out.commands.push_back({command::kind::wake, step, attempt, compensation, s.retry_at_us});
    return;
  }
  auto& a = compensation ? *spec.compensate : spec.action;
  if (a.kind == config::action_kind::sleep) {
    end_wait(step, attempt, compensation, "null", "", now_us, out);
  } else {
    fail_attempt(step, attempt,
                 outcome::failure(config::error_kind::timeout,
                                  "no signal \"" + a.wait.signal + "\" came within "
                                    + std::to_string(a.wait.timeout_ms) + " ms"),
                 false, now_us, out);
  }
  advance(now_us, out);
}

signal_result saga_machine::signal(const std::string& name, std::string data_json,
                                   std::string signal_id, std::int64_t now_us, transition& out) {
  // A sender that retries after the saga ended is told it was received.
  if (!signal_id.empty() && signals_
      && std::find(signals_->ids.begin(), signals_->ids.end(), signal_id) != signals_->ids.end())
    return signal_result::duplicate;
  if (finished())
    return signal_result::ended;
  auto& e = emit(event_type::signal_received, -1, now_us, out);
  e.signal = name;
  e.signal_id = std::move(signal_id);
  e.data = std::move(data_json);
  apply(e);
  if (phase_ != phase::forward)
    return signal_result::stored;
  auto& g = spec_.groups[group_];
  for (auto i = g.first; i < g.first + g.count; ++i)
    if (consume_signal(i, now_us, out)) {
      advance(now_us, out);
      break;
    }
  return signal_result::stored;
}

bool saga_machine::consume_signal(std::uint32_t step, std::int64_t now_us, transition& out) {
  auto& s = steps_[step];
  auto& a = spec_.steps[step].action;
  if (phase_ != phase::forward || s.state != step_state::running || !s.waiting
      || a.kind != config::action_kind::wait)
    return false;
  auto at = pending_signal(a.wait.signal);
  if (at < 0)
    return false;
  end_wait(step, s.attempt, false, signals_->pending[static_cast<size_t>(at)].data, a.wait.signal,
           now_us, out);
  return true;
}

void saga_machine::end_wait(std::uint32_t step, std::uint32_t attempt, bool compensation,
                            std::string output, const std::string& signal, std::int64_t now_us,
                            transition& out) {
  auto& e = emit(compensation ? event_type::compensation_succeeded : event_type::step_succeeded,
                 static_cast<int>(step), now_us, out);
  e.attempt = attempt;
  if (!compensation)
    e.output = std::move(output);
  e.signal = signal;
  apply(e);
}

} // namespace nexus::runtime
