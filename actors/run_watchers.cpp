#include "actors/run_watchers.hpp"

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "runtime/message_tally.hpp"

namespace nexus::actors {

namespace {

using runtime::start_result;

/// Told a start_async()'s answer and then its saga's end (both come from
/// the coordinator, in that order). The coordinator holds the only handle
/// to it meanwhile: when the engine stops, the coordinator's state goes and
/// the watcher with it. It does not monitor the coordinator: CAF 0.17 keeps
/// a monitor on the observed actor until that one ends, whether or not its
/// observer lives, and the monitor's weak reference keeps the observer's
/// memory (some 1.4 KB), so every start_async() would have left that behind
/// for the engine's lifetime.
caf::behavior end_watcher(caf::event_based_actor* self, std::string cid, end_callback on_end,
                          std::function<void(const std::string&)> on_started) {
  return {
    [=](std::uint8_t r) {
      runtime::count_message();
      if (static_cast<start_result>(r) != start_result::started) {
        on_end(cid, static_cast<start_result>(r), "");
        self->quit();
      } else if (on_started) {
        on_started(cid);
      }
    },
    [=](done_atom, const std::string& ended, const std::string& status) {
      runtime::count_message();
      on_end(ended, start_result::started, status);
      self->quit();
    },
  };
}

// Spawned with their arguments (never as capturing lambdas without any):
// CAF 0.17 binds a null pointer to a reference when an actor's function
// takes nothing but `self`, which UBSan stops.
void start_answerer(caf::event_based_actor* self, coordinator_actor coordinator,
                    config::saga_request req, std::function<void(start_result)> on_answer) {
  self->request(coordinator, caf::infinite, start_atom::value, std::move(req))
    .then(
      [self, on_answer](std::uint8_t r) {
        runtime::count_message();
        on_answer(static_cast<start_result>(r));
        self->quit();
      },
      [self, on_answer](caf::error&) {
        runtime::count_message();
        on_answer(start_result::closed);
        self->quit();
      });
}

void signal_answerer(caf::event_based_actor* self, coordinator_actor coordinator,
                     runtime::saga_signal s,
                     std::function<void(runtime::signal_result, const std::string&)> on_answer) {
  self->request(coordinator, caf::infinite, signal_atom::value, s.cid, s.name, s.data, s.id)
    .then(
      [self, on_answer](std::uint8_t r, std::string& detail) {
        runtime::count_message();
        on_answer(static_cast<runtime::signal_result>(r), detail);
        self->quit();
      },
      [self, on_answer](caf::error& err) {
        runtime::count_message();
        on_answer(runtime::signal_result::failed, "the engine did not answer: " + caf::to_string(err));
        self->quit();
      });
}

void end_waiter(caf::event_based_actor* self, coordinator_actor coordinator, std::string cid,
                std::chrono::milliseconds limit, std::function<void(const std::string&)> on_end) {
  self->request(coordinator, limit, watch_atom::value, std::move(cid))
    .then(
      [self, on_end](std::string& status) {
        runtime::count_message();
        on_end(status);
        self->quit();
      },
      [self, on_end](caf::error&) {
        runtime::count_message();
        on_end("");
        self->quit();
      });
}

struct progress_state {
  coordinator_actor coordinator;
  std::function<void(const runtime::run_summary&)> report;
};

/// Asks the coordinator for its counts every `every` and reports them.
caf::behavior progress_poller(caf::stateful_actor<progress_state>* self, coordinator_actor coordinator,
                              std::function<void(const runtime::run_summary&)> report) {
  constexpr std::chrono::milliseconds every{200};
  self->state.coordinator = std::move(coordinator);
  self->state.report = std::move(report);
  self->delayed_send(self, every, tick_atom::value);
  return {
    [=](tick_atom) {
      runtime::count_message();
      self->request(self->state.coordinator, caf::infinite, stats_atom::value)
        .then([=](runtime::run_summary& s) {
          runtime::count_message();
          self->state.report(s);
          self->delayed_send(self, every, tick_atom::value);
        });
    },
  };
}

} // namespace

void spawn_start_answerer(caf::actor_system& sys, const coordinator_actor& coordinator,
                          config::saga_request req,
                          std::function<void(runtime::start_result)> on_answer) {
  sys.spawn(start_answerer, coordinator, std::move(req), std::move(on_answer));
}

void spawn_signal_answerer(
  caf::actor_system& sys, const coordinator_actor& coordinator, runtime::saga_signal s,
  std::function<void(runtime::signal_result, const std::string& detail)> on_answer) {
  sys.spawn(signal_answerer, coordinator, std::move(s), std::move(on_answer));
}

void spawn_end_waiter(caf::actor_system& sys, const coordinator_actor& coordinator,
                      std::string cid, std::chrono::milliseconds limit,
                      std::function<void(const std::string&)> on_end) {
  sys.spawn(end_waiter, coordinator, std::move(cid), limit, std::move(on_end));
}

caf::actor spawn_end_watcher(caf::actor_system& sys, std::string cid, end_callback on_end,
                             std::function<void(const std::string&)> on_started) {
  return sys.spawn(end_watcher, std::move(cid), std::move(on_end), std::move(on_started));
}

caf::actor spawn_progress_poller(caf::actor_system& sys, const coordinator_actor& coordinator,
                                 std::function<void(const runtime::run_summary&)> report) {
  // Detached: its report (a progress bar) may block on the terminal.
  return sys.spawn<caf::detached>(progress_poller, coordinator, std::move(report));
}

} // namespace nexus::actors
