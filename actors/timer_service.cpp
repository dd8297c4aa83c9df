#include "actors/timer_service.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "runtime/message_tally.hpp"

namespace nexus::actors {

namespace {

struct timer_state {
  timer_setup setup;
  std::string cursor; ///< The key of the last timer told; "": none yet.
  /// When the pending tick is due (INT64_MAX: none pending), and its
  /// number: a tick that a sooner one replaced is ignored.
  std::int64_t next_tick_us = INT64_MAX;
  std::uint64_t generation = 0;
  static inline const char* name = "nexus.timers";
};

using timer_actor = caf::stateful_actor<timer_state>;

/// Sets its one timer for `at_us`. A day at most: a timer further off (a
/// sleep until 9999-12-31 is legal) is looked at again then, and CAF's
/// clock, in nanoseconds, is never asked for more than it can count.
void schedule(timer_actor* self, std::int64_t at_us) {
  constexpr std::int64_t day_us = 86400LL * 1'000'000;
  auto& st = self->state;
  auto now = st.setup.now_us();
  auto delay = std::clamp<std::int64_t>(at_us - now, 0, day_us);
  st.next_tick_us = now + delay;
  self->delayed_send(self, std::chrono::microseconds(delay), tick_atom::value, ++st.generation);
}

/// Tells the target of the timers due within the look-ahead, a batch at a
/// time, and sets its own timer for the next one.
void tick(timer_actor* self) {
  auto& st = self->state;
  st.next_tick_us = INT64_MAX;
  auto horizon = st.setup.now_us() + st.setup.lookahead_us;
  std::uint32_t told = 0;
  std::optional<std::int64_t> next;
  auto s = st.setup.scan(st.cursor, [&](std::int64_t wake, std::string_view cid,
                                         std::string_view key) {
    if (wake > horizon || told == st.setup.batch) {
      next = wake;
      return false;
    }
    self->send(st.setup.target, wake_atom::value, std::string{cid}, wake);
    st.cursor.assign(key);
    ++told;
    return true;
  });
  if (!s) {
    // Read again in a second: a parked saga is late, never lost.
    spdlog::error("timer service: {}", s.message());
    schedule(self, st.setup.now_us() + 1'000'000);
    return;
  }
  if (next && told == st.setup.batch) { // more due: after the messages that came meanwhile
    st.next_tick_us = st.setup.now_us();
    self->send(self, tick_atom::value, ++st.generation);
  } else if (next) {
    schedule(self, *next - st.setup.lookahead_us);
  }
}

caf::behavior timer_service(timer_actor* self, timer_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.next_tick_us = st.setup.now_us(); // those due now, first
  self->send(self, tick_atom::value, st.generation);
  return {
    [=](tick_atom, std::uint64_t generation) {
      runtime::count_message();
      if (generation == self->state.generation)
        tick(self);
    },
    [=](park_atom, std::int64_t wake_us) {
      runtime::count_message();
      auto& st = self->state;
      auto at = wake_us - st.setup.lookahead_us;
      if (at < st.next_tick_us)
        schedule(self, at);
    },
  };
}

} // namespace

caf::actor spawn_timer_service(caf::actor_system& sys, timer_setup setup, placement where) {
  // Detached as the coordinator is: it reads RocksDB.
  if (where == placement::scheduler)
    return sys.spawn(timer_service, std::move(setup));
  return sys.spawn<caf::detached>(timer_service, std::move(setup));
}

} // namespace nexus::actors
