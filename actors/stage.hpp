#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "config/workflow.hpp"

namespace nexus::actors {

/// Spawns the stage serving one step: a round-robin pool of `workers`
/// worker actors that execute the step's action and compensation.
///
/// Protocol: `(execute_atom, step_call)` -> `step_result` once the attempt
/// has run (after the simulated latency, which occupies no thread).
/// `step` must outlive the stage.
caf::actor spawn_stage(caf::actor_system& sys, const config::step_spec& step,
                       std::uint32_t workers);

} // namespace nexus::actors
