#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/stage_stats.hpp"
#include "config/workflow.hpp"

namespace nexus::runtime {
class definition_catalog;
class handler_registry;
struct step_meters;
}

namespace nexus::actors {


/// The interface of a stage, checked by the compiler wherever it is held:
/// a step target that also runs calls handed on by a breaker, takes a
/// watcher and answers its counts; `(ready_atom, worker)` and `(sweep_atom)`
/// are its own workers' and timer's.
using stage_actor = step_target::extend<handed_call, caf::reacts_to<watch_atom>,
                                        caf::replies_to<stats_atom>::with<stage_stats>,
                                        caf::reacts_to<ready_atom, std::uint32_t>,
                                        caf::reacts_to<sweep_atom>>;

/// Spawns the stage serving `step` of saga `saga` (named `<saga>/<step>` in
/// logs and pressure messages): a
/// dispatcher with `step.concurrency` workers (a bulkhead; default 64 per
/// core for `simulate`, whose latency holds no thread, and 4 per core for
/// exec, http and handler steps, whose workers are detached threads) and a
/// queue of at most `step.queue` calls waiting for one (default
/// `default_queue`: the run's max_in_flight, which no queue then reaches).
///
/// Protocol: `(execute_atom, step_call)` -> `step_result` once the attempt
/// has run, or has timed out at the call's `deadline_us` (then with kind
/// `timeout`, an exec child killed). A worker answers the caller itself.
/// `(execute_atom, step_call, breaker, id)`, delegated by a circuit breaker,
/// answers the same and also sends `(report_atom, id, ok, kind)` to the
/// breaker. With the queue full, a call is refused at once with kind
/// `circuit_open` and a `retry_after_ms` from the queue's length. `(watch_atom)`
/// makes the sender the stage's watcher, told `(pressure_atom, name, true)`
/// when the queue is full and `(pressure_atom, name, false)` when it has
/// half emptied. `(stats_atom)` -> `stage_stats`. A call runs the step as
/// the definition it names (step_call::definition, looked up in
/// `definitions`) gives it; `step` sets the stage's capacity, and its
/// workers are threads of their own if it, or `blocks` (another
/// definition's step of this name), holds a thread. `step`, `handlers` and
/// `definitions` (both may be null) must outlive the stage. With `meters`
/// (null: none), it counts its calls, refusals, busy workers and queue in
/// them, and the time each attempt held a worker.
/// The workers a stage for `step` has on a node of `cores` cores.
std::uint32_t stage_workers(const config::step_spec& step, std::uint32_t cores);

stage_actor spawn_stage(caf::actor_system& sys, const std::string& saga,
                       const config::step_spec& step, std::uint32_t cores,
                       std::uint32_t default_queue, const runtime::handler_registry* handlers,
                       const runtime::definition_catalog* definitions = nullptr,
                       bool blocks = false, runtime::step_meters* meters = nullptr);

} // namespace nexus::actors
