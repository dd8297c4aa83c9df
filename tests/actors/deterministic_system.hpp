#pragma once

// An actor system on CAF's deterministic scheduler, for the actor tests:
// nothing runs until the test says so (run), and time moves only when the
// test moves it (advance): no threads, no sleeps, no wall clock.

#include <memory>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/system_config.hpp"

namespace nexus::test {

struct deterministic_system {
  actors::system_config cfg{1};
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  deterministic_system() {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  /// Runs every actor until no message is left.
  void run() { sched->run(); }

  /// Moves the test clock on: due timers fire and what they cause runs.
  void advance(caf::timespan t) {
    sched->advance_time(t);
    sched->run();
  }

  /// Tells each of `actors` (handles of any interface) to exit, and lets them.
  template <class... Handles>
  void stop(const Handles&... actors) {
    (caf::anon_send_exit(actors, caf::exit_reason::user_shutdown), ...);
    sched->run();
  }
};

} // namespace nexus::test
