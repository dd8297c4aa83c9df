#pragma once

namespace caf {
class actor_system_config;
}

namespace nexus::actors {

/// Has actor systems made with `cfg` schedule actors on CAF's work-stealing
/// scheduler with one change: its workers' loop leaves out the debug
/// bookkeeping that Debian's libcaf 0.17.6, built with CAF_LOG_LEVEL set,
/// does around every resume (a `dynamic_cast` from the job to its actor and
/// two calls into the logger: some 1,400 instructions a resume, ten resumes
/// a saga, 6 % of a saga's instructions under callgrind). Everything else is
/// CAF's own: its policy, its queues, its stealing, its clock thread.
///
/// The `scheduler.policy` setting is still honoured when the system is made:
/// `testing` gives CAF's deterministic test_coordinator, `sharing` CAF's
/// work-sharing scheduler unchanged.
void use_lean_scheduler(caf::actor_system_config& cfg);

} // namespace nexus::actors
