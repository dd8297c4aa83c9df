#include "bench/raw_messaging.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/system_config.hpp"

namespace nexus::bench {

namespace {

// -- writer: acknowledges every append at once --------------------------------

// A class, not a function: CAF 0.17 spawns a function of no arguments by
// dereferencing a null pointer to its empty argument tuple (UBSan says so).
class raw_writer : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](append_atom, std::uint64_t) { return ack_atom::value; },
    };
  }
};

// -- stage: answers each call at once ------------------------------------------

// As a Nexus stage answers a call of a simulated step that takes no time
// (the bench's steps): no worker, no queue.
class raw_stage : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [](execute_atom, std::uint64_t saga) -> caf::result<result_atom, std::uint64_t> {
        return {result_atom::value, saga};
      },
    };
  }
};

// -- saga: append, then per step a call and an append, then done --------------

struct raw_links {
  caf::actor writer;
  caf::actor coordinator;
  std::vector<caf::actor> stages;
};

struct raw_saga_state {
  std::shared_ptr<const raw_links> links;
  std::uint64_t id = 0;
  std::uint32_t step = 0;     ///< Steps done.
  std::uint32_t messages = 0; ///< Sent and received, its `done` included.
};

caf::behavior raw_saga(caf::stateful_actor<raw_saga_state>* self,
                       std::shared_ptr<const raw_links> links, std::uint64_t id) {
  self->state.links = std::move(links);
  self->state.id = id;
  self->send(self->state.links->writer, append_atom::value, id);
  self->state.messages = 1;
  return {
    [=](ack_atom) {
      auto& st = self->state;
      st.messages += 2; // this ack, and what it sends
      if (st.step < st.links->stages.size()) {
        self->send(st.links->stages[st.step], execute_atom::value, st.id);
        return;
      }
      self->send(st.links->coordinator, done_atom::value, st.messages);
      self->quit();
    },
    [=](result_atom, std::uint64_t) {
      auto& st = self->state;
      st.messages += 2;
      ++st.step;
      self->send(st.links->writer, append_atom::value, st.id);
    },
  };
}

// -- coordinator: keeps in_flight sagas alive ----------------------------------

struct raw_coordinator_state {
  std::shared_ptr<const raw_links> links;
  std::uint64_t launched = 0;
  std::uint64_t messages = 0; ///< The sagas' that have ended.
  std::shared_ptr<std::atomic<std::uint64_t>> done;
  caf::actor report_to;
};

caf::behavior raw_coordinator(caf::stateful_actor<raw_coordinator_state>* self,
                              raw_messaging_spec spec, caf::actor writer,
                              std::vector<caf::actor> stages,
                              std::shared_ptr<std::atomic<std::uint64_t>> done) {
  auto& st = self->state;
  st.links = std::make_shared<const raw_links>(
    raw_links{std::move(writer), caf::actor_cast<caf::actor>(self), std::move(stages)});
  st.done = std::move(done);
  auto launch = [=] {
    auto& st = self->state;
    self->system().spawn(raw_saga, st.links, st.launched++);
  };
  return {
    [=](run_atom, const caf::actor& report_to) {
      self->state.report_to = report_to;
      while (self->state.launched < std::min(spec.sagas, spec.in_flight))
        launch();
    },
    [=](done_atom, std::uint32_t messages) {
      auto& st = self->state;
      st.messages += messages;
      auto n = ++*st.done;
      if (st.launched < spec.sagas)
        launch();
      else if (n == spec.sagas)
        self->send(st.report_to, done_atom::value, st.messages);
    },
  };
}

} // namespace

raw_messaging_result run_raw_messaging(const raw_messaging_spec& spec,
                                       const std::function<void(std::uint64_t)>& progress) {
  raw_messaging_result r;
  if (spec.sagas == 0)
    return r;
  actors::system_config cfg{spec.threads};
  caf::actor_system sys{cfg};
  auto writer = sys.spawn<raw_writer>();
  std::vector<caf::actor> stages;
  for (std::uint32_t i = 0; i < spec.steps; ++i)
    stages.push_back(sys.spawn<raw_stage>());
  auto done = std::make_shared<std::atomic<std::uint64_t>>(0);
  auto coordinator = sys.spawn(raw_coordinator, spec, writer, stages, done);
  auto start = std::chrono::steady_clock::now();
  {
    caf::scoped_actor self{sys};
    self->send(coordinator, run_atom::value, caf::actor{self});
    for (bool finished = false; !finished;)
      self->receive(
        [&](done_atom, std::uint64_t messages) {
          finished = true;
          r.messages = messages;
        },
        caf::after(std::chrono::milliseconds(200)) >> [&] {
          if (progress)
            progress(done->load());
        });
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  r.sagas = done->load();
  for (auto& a : stages)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(coordinator, caf::exit_reason::user_shutdown);
  return r;
}

} // namespace nexus::bench
