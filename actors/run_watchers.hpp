#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/coordinator.hpp"
#include "runtime/run_summary.hpp"
#include "runtime/signal_log.hpp"
#include "runtime/start_request.hpp"

namespace nexus::actors {

/// How a saga came out, told once: `result` is `started` and `status` its
/// end (completed, compensated, failed or cancelled), or the start was
/// refused, `result` says why and `status` is empty.
using end_callback =
  std::function<void(const std::string& cid, runtime::start_result result, const std::string& status)>;

/// Spawns the actor that a start of saga `cid` is sent from, so that it is
/// told the start's answer (`on_started` once durable, or `on_end` with
/// why it was refused) and then the saga's end (`on_end`). Only the
/// coordinator keeps it (it is the start's watcher there): when the run
/// stops, the watcher goes without a word, and it leaves nothing on the
/// coordinator when it goes.
caf::actor spawn_end_watcher(caf::actor_system& sys, std::string cid, end_callback on_end,
                             std::function<void(const std::string&)> on_started);

/// Spawns the actor that sends the coordinator `req` and hands its answer
/// (or `closed`, if the coordinator is gone) to `on_answer`, then goes.
void spawn_start_answerer(caf::actor_system& sys, const coordinator_actor& coordinator,
                          config::saga_request req,
                          std::function<void(runtime::start_result)> on_answer);

/// Spawns the actor that sends the coordinator signal `s` and hands its
/// answer (`failed`, saying why, if the coordinator is gone) to `on_answer`.
void spawn_signal_answerer(
  caf::actor_system& sys, const coordinator_actor& coordinator, runtime::saga_signal s,
  std::function<void(runtime::signal_result, const std::string& detail)> on_answer);

/// Spawns the actor that waits at most `limit` for saga `cid` to end and
/// hands `on_end` its status ("" if not running, or past the limit).
void spawn_end_waiter(caf::actor_system& sys, const coordinator_actor& coordinator,
                      std::string cid, std::chrono::milliseconds limit,
                      std::function<void(const std::string&)> on_end);

/// Spawns the actor that asks the coordinator for its counts every 200 ms
/// and hands them to `report` (engine::wait's progress).
caf::actor spawn_progress_poller(caf::actor_system& sys, const coordinator_actor& coordinator,
                                 std::function<void(const runtime::run_summary&)> report);

} // namespace nexus::actors
