#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "config/workflow.hpp"

namespace nexus::runtime {
class handler_registry;
}

namespace nexus::actors {

/// Spawns the stage serving one step: a round-robin pool of workers that
/// execute the step's action and compensation. A step whose action or
/// compensation holds a thread while it runs (exec, http, handler) gets
/// detached workers, `step.concurrency` of them (default 8); a simulated
/// step gets `step.concurrency` or `default_workers` scheduled ones.
///
/// Protocol: `(execute_atom, step_call)` -> `step_result` once the attempt
/// has run, or has timed out at the call's `deadline_us` (then with kind
/// `timeout`, the exec child killed). `(execute_atom, step_call, breaker,
/// id)`, delegated by a circuit breaker, answers the same and also sends
/// `(report_atom, id, ok, kind)` to the breaker. `step` and `handlers` (may be null)
/// must outlive the stage.
caf::actor spawn_stage(caf::actor_system& sys, const config::step_spec& step,
                       std::uint32_t default_workers, const runtime::handler_registry* handlers);

} // namespace nexus::actors
