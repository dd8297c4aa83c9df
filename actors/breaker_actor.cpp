#include "actors/breaker_actor.hpp"

#include "actors/errors.hpp"
#include "actors/stage.hpp"

#include <chrono>
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>
#include "runtime/meters.hpp"
#include "runtime/logging.hpp"

#include "runtime/breaker_log.hpp"
#include "runtime/bulkhead.hpp"
#include "runtime/circuit_breaker.hpp"
#include "runtime/message_tally.hpp"
#include "actors/messages.hpp"
#include "storage/event.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

using runtime::breaker_state;
/// Durations and give-up times are on the actor clock, which CAF's test
/// scheduler moves; times of day come from breaker_setup::now_us.
using steady = caf::actor_clock;

/// How often the row's figures are refreshed while calls come.
constexpr std::chrono::seconds row_refresh{1};

/// A permitted call whose outcome the stage has not reported yet. One sweep
/// timer bounds them all: a timer per call would cost more than the breaker.
struct in_flight {
  std::uint64_t generation = 0;
  std::uint32_t use = 0; ///< Bumped each time the slot is taken: a call's ID names it.
  bool waiting = false;
  steady::time_point started;
  steady::time_point give_up;
};

struct breaker_actor_state {
  breaker_setup setup;
  /// The stage of each step by saga, then step: found without building a key.
  std::unordered_map<std::string, std::unordered_map<std::string, call_runner>> routes;
  std::unique_ptr<runtime::circuit_breaker> machine;
  /// Slots reused through `free_slots`, so that a call costs no allocation.
  std::vector<in_flight> calls;
  std::vector<std::uint32_t> free_slots;
  std::size_t waiting = 0;
  runtime::sweep_timer sweep; ///< For calls in flight whose stage never answered.
  std::unique_ptr<runtime::breaker_log> log; ///< What it writes, and its last event's number.
  bool row_dirty = false;      ///< Calls counted since the row was written.
  bool row_written = false;    ///< The `breakers` family has a row for it.
  bool refresh_queued = false;
  /// The time of day, for its events and the open period's end
  /// (setup.now_us, or the system clock).
  std::int64_t now_us() const { return setup.now_us ? setup.now_us() : storage::now_us(); }
  static inline const char* name = "nexus.breaker";
};

using breaker_self = breaker_actor::stateful_pointer<breaker_actor_state>;

/// Arms the timer that turns an open breaker half-open at its time.
void arm_half_open(breaker_self self, std::int64_t now_us) {
  auto until = self->state.machine->open_until_us();
  self->delayed_send(self, std::chrono::microseconds(std::max<std::int64_t>(0, until - now_us)),
                     half_open_atom::value, until);
}

void append(breaker_self self, storage::append_request&& req) {
  auto resource = self->state.setup.resource;
  self->request(self->state.setup.writer, caf::infinite, append_atom::value, std::move(req))
    .then([](ack_atom) {},
          [resource](caf::error& err) {
            runtime::log(spdlog::level::err, runtime::log_context::of_resource(resource), "the breaker's state could not be logged: {}",
                         describe(err));
          });
}

/// Logs transitions (events, row, log line) and arms the half-open timer.
void publish(breaker_self self, const std::vector<runtime::breaker_transition>& ts,
             std::int64_t now_us) {
  auto& st = self->state;
  auto req = st.log->transitions(ts, *st.machine, now_us);
  if (!req)
    return;
  for (auto& t : ts)
    if (auto* m = st.setup.meters) {
      auto to = t.to == breaker_state::open ? 0 : t.to == breaker_state::half_open ? 1 : 2;
      m->transitions[to].fetch_add(1, std::memory_order_relaxed);
    }
  for (auto& t : ts)
    runtime::log(t.to == breaker_state::closed ? spdlog::level::info : spdlog::level::warn,
                 runtime::log_context::of_resource(st.setup.resource), "breaker {}",
                 runtime::describe(t));
  st.row_dirty = false;
  st.row_written = true;
  append(self, std::move(*req));
  if (st.machine->state() == breaker_state::open)
    arm_half_open(self, now_us);
}

/// Writes the row's current figures (no event); `written` (if given) is
/// answered once the writer has acknowledged it, or has refused it.
void write_row(breaker_self self, std::optional<caf::response_promise> written = {}) {
  auto& st = self->state;
  auto req = st.log->figures(*st.machine, st.now_us());
  st.row_dirty = false;
  st.row_written = true;
  if (!written) {
    append(self, std::move(req));
    return;
  }
  self->request(st.setup.writer, caf::infinite, append_atom::value, std::move(req))
    .then([p = *written](ack_atom) mutable { p.deliver(true); },
          [p = *written](caf::error&) mutable { p.deliver(false); });
}

void count(breaker_self self, std::uint64_t generation, bool ok, config::error_kind kind,
           std::int64_t duration_us) {
  auto& st = self->state;
  std::vector<runtime::breaker_transition> ts;
  auto now = st.now_us();
  st.machine->on_result(generation, ok, kind, duration_us, now, ts);
  publish(self, ts, now);
  st.row_dirty = st.row_dirty || ts.empty();
  if (st.row_dirty && !st.row_written) {
    write_row(self); // listed by `nexus breakers` from its first call, however short the run
    return;
  }
  if (st.row_dirty && !st.refresh_queued) {
    st.refresh_queued = true;
    self->delayed_send(self, row_refresh, refresh_atom::value);
  }
}

call_runner find_stage(breaker_self self, const step_call& call) {
  auto& routes = self->state.routes;
  auto saga = routes.find(call.saga);
  if (saga == routes.end())
    return {};
  auto step = saga->second.find(call.step);
  return step == saga->second.end() ? call_runner{} : step->second;
}

/// Counts the outcome of call `id`, once: a late report after a sweep gave
/// up on it finds nothing left to do.
void settle(breaker_self self, std::uint64_t id, bool ok, config::error_kind kind) {
  auto& st = self->state;
  auto slot = static_cast<std::uint32_t>(id);
  auto& c = st.calls[slot];
  if (!c.waiting || c.use != static_cast<std::uint32_t>(id >> 32))
    return;
  c.waiting = false;
  --st.waiting;
  st.free_slots.push_back(slot);
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(self->clock().now() - c.started);
  count(self, c.generation, ok, kind, took.count());
}

/// Takes a slot for a permitted call; returns the call's ID.
std::uint64_t take_slot(breaker_self self) {
  auto& st = self->state;
  if (st.free_slots.empty()) {
    st.free_slots.push_back(static_cast<std::uint32_t>(st.calls.size()));
    st.calls.emplace_back();
  }
  auto slot = st.free_slots.back();
  st.free_slots.pop_back();
  auto& c = st.calls[slot];
  c.waiting = true;
  ++c.use;
  ++st.waiting;
  return (static_cast<std::uint64_t>(c.use) << 32) | slot;
}

step_result refused(const std::string& resource, const runtime::breaker_permit& p,
                    const step_call& call) {
  return step_result::failure(call, config::error_kind::circuit_open,
                              "the circuit breaker of " + resource + " is open: next trial in "
                                + std::to_string(p.retry_after_ms) + " ms",
                              p.retry_after_ms);
}

breaker_actor::behavior_type breaker(breaker_self self, breaker_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  for (auto& [key, stage] : st.setup.stages) {
    auto slash = key.find('/');
    st.routes[key.substr(0, slash)][key.substr(slash + 1)] = stage;
  }
  st.setup.stages.clear(); // kept as `routes`
  st.machine = std::make_unique<runtime::circuit_breaker>(*st.setup.spec);
  st.log = std::make_unique<runtime::breaker_log>(st.setup.resource,
                                                  st.setup.stored ? st.setup.stored->last_seq : 0);
  auto now = st.now_us();
  std::vector<runtime::breaker_transition> ts;
  if (st.setup.stored) {
    auto& row = *st.setup.stored;
    st.row_written = true;
    auto stored = runtime::parse_breaker_state(row.state).value_or(breaker_state::closed);
    st.machine->restore(stored, row.open_until_us, row.reopens, now, ts);
  } else {
    st.machine->restore(breaker_state::closed, 0, 0, now, ts);
  }
  publish(self, ts, now);
  if (ts.empty() && st.machine->state() == breaker_state::open)
    arm_half_open(self, now);
  return {
    [=](execute_atom, step_call& call) -> caf::result<step_result> {
      runtime::count_message();
      auto& st = self->state;
      std::vector<runtime::breaker_transition> ts;
      auto now = st.now_us();
      auto permit = st.machine->try_acquire(now, ts);
      publish(self, ts, now);
      if (!permit.permitted)
        return refused(st.setup.resource, permit, call);
      auto stage = find_stage(self, call);
      if (!stage)
        return step_result::failure(call, config::error_kind::permanent,
                                    "breaker " + st.setup.resource + " has no stage for step "
                                      + call.step);
      auto id = take_slot(self);
      auto started = self->clock().now();
      auto left = std::chrono::microseconds(std::max<std::int64_t>(0, call.deadline_us - now));
      auto& waiting = st.calls[static_cast<std::uint32_t>(id)];
      waiting.generation = permit.generation;
      waiting.started = started;
      waiting.give_up = started + left + overrun_grace;
      if (st.sweep.arm())
        self->delayed_send(self, std::chrono::milliseconds(runtime::sweep_timer::interval_ms),
                           sweep_atom::value);
      // The stage answers the saga itself, and reports the outcome here:
      // the breaker is not on the answer's way back.
      self->delegate(stage, execute_atom::value, std::move(call), caf::actor_cast<outcome_listener>(self),
                     id);
      return caf::delegated<step_result>{};
    },
    [=](report_atom, std::uint64_t id, bool ok, std::uint8_t kind) {
      runtime::count_message();
      settle(self, id, ok, static_cast<config::error_kind>(kind));
    },
    [=](state_atom) -> std::string {
      runtime::count_message();
      return std::string{runtime::to_string(self->state.machine->state())};
    },
    [=](sweep_atom) {
      runtime::count_message();
      auto& st = self->state;
      st.sweep.fired();
      auto now = self->clock().now();
      for (std::uint32_t slot = 0; slot < st.calls.size(); ++slot) {
        auto& c = st.calls[slot];
        if (c.waiting && c.give_up <= now) // the saga's own timeout has told it
          settle(self, (static_cast<std::uint64_t>(c.use) << 32) | slot, false,
                 config::error_kind::timeout);
      }
      if (st.waiting > 0 && st.sweep.arm())
        self->delayed_send(self, std::chrono::milliseconds(runtime::sweep_timer::interval_ms),
                           sweep_atom::value);
    },
    [=](half_open_atom, std::int64_t armed_for) {
      runtime::count_message();
      auto& m = *self->state.machine;
      if (m.state() != breaker_state::open || m.open_until_us() != armed_for)
        return; // an earlier open period's timer
      std::vector<runtime::breaker_transition> ts;
      auto now = self->state.now_us();
      m.tick(now, ts);
      if (ts.empty())
        arm_half_open(self, now); // fired early
      publish(self, ts, now);
    },
    [=](refresh_atom) {
      runtime::count_message();
      auto& st = self->state;
      st.refresh_queued = false;
      if (st.row_dirty)
        write_row(self);
    },
    [=](flush_atom) -> caf::result<bool> {
      runtime::count_message();
      if (!self->state.row_dirty)
        return true;
      auto promise = self->make_response_promise();
      write_row(self, promise);
      return caf::delegated<bool>{};
    },
  };
}

} // namespace

std::string stage_key(const std::string& saga, const std::string& step) {
  return saga + "/" + step;
}

breaker_actor spawn_breaker(caf::actor_system& sys, breaker_setup setup) {
  return sys.spawn(breaker, std::move(setup));
}

} // namespace nexus::actors
