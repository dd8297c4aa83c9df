#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include <caf/fwd.hpp>

#include "actors/placement.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

/// Reads timers in due order from the first whose key sorts after `after`,
/// as event_log::for_each_timer does (the production source).
using timer_scan = std::function<storage::status(
  std::string_view after,
  const std::function<bool(std::int64_t wake_us, std::string_view cid, std::string_view key)>&)>;

struct timer_setup {
  timer_scan scan;
  /// Told `(wake_atom, cid, wake_us)` for each timer that comes due.
  caf::actor target;
  /// A timer is told this long before it is due: its saga is brought back
  /// into memory in time and wakes on its own clock. At most
  /// runtime.passivate_after_ms, so that a saga parked later (it waits
  /// longer than that) never sorts before what was told.
  std::int64_t lookahead_us = 0;
  std::function<std::int64_t()> now_us; ///< The clock, the test's in tests.
  std::uint32_t batch = 1024; ///< Timers told per turn, so that other messages get in.
};

/// Spawns the timer service: the one reader of the durable timer index
/// (the `timers` family, see storage/keys.hpp) while a run holds the log.
/// It tells `target` of every timer in due order, once each in a run,
/// those due while no process ran at once; it keeps one timer of its own,
/// for the next one due, and nothing per saga. `(park_atom, wake_us)`: a
/// timer was set (durably) for `wake_us`; it wakes in time for it.
/// Timers already told are behind its cursor; the saga that a timer woke
/// clears it with its next write.
caf::actor spawn_timer_service(caf::actor_system& sys, timer_setup setup,
                               placement where = placement::own_thread);

} // namespace nexus::actors
