#include "actors/scheduler.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace nexus::actors {

/// CAF's work-stealing policy under a name of its own, so that its worker
/// can have a run loop of its own (below).
struct lean_stealing : caf::policy::work_stealing {};

} // namespace nexus::actors

// CAF's worker<Policy>::run, less the CAF_PUSH_AID_FROM_PTR(dynamic_cast<
// abstract_actor*>(job)) that a build with CAF_LOG_LEVEL defined makes of it
// (Debian's is; its level is "quiet", so nothing is ever logged with that
// ID). An explicit specialization of the one member function: the worker's
// state, start, enqueueing and stealing stay CAF's. It must be seen before
// coordinator<lean_stealing> is instantiated, which happens only here.
template <>
void caf::scheduler::worker<nexus::actors::lean_stealing>::run() {
  CAF_SET_LOGGER_SYS(&system());
  for (;;) {
    auto job = policy_.dequeue(this);
    policy_.before_resume(this, job);
    auto res = job->resume(this, max_throughput_);
    policy_.after_resume(this, job);
    switch (res) {
      case resumable::resume_later:
        // Keeps its reference: the job stays in the loop.
        policy_.resume_job_later(this, job);
        break;
      case resumable::done:
        policy_.after_completion(this, job);
        intrusive_ptr_release(job);
        break;
      case resumable::awaiting_message:
        // Enqueued again, with a new reference, when a message comes.
        intrusive_ptr_release(job);
        break;
      case resumable::shutdown_execution_unit:
        policy_.after_completion(this, job);
        policy_.before_shutdown(this);
        return;
    }
  }
}

namespace nexus::actors {

void use_lean_scheduler(caf::actor_system_config& cfg) {
  cfg.module_factories.push_back([](caf::actor_system& sys) -> caf::actor_system::module* {
    auto policy = caf::get_or(sys.config(), "scheduler.policy", caf::atom("stealing"));
    if (policy == caf::atom("testing"))
      return new caf::scheduler::test_coordinator(sys);
    if (policy == caf::atom("sharing"))
      return new caf::scheduler::coordinator<caf::policy::work_sharing>(sys);
    return new caf::scheduler::coordinator<lean_stealing>(sys);
  });
}

} // namespace nexus::actors
