// A stage as a bulkhead, driven by CAF's deterministic scheduler: its workers
// bound the calls that run, its queue bounds the calls that wait, a full
// queue refuses and presses, and its sweep answers calls past their time.
// Simulated latencies and sweeps run on the test clock (advance_time);
// nothing waits on the real one.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/messages.hpp"
#include "actors/stage.hpp"
#include "actors/system_config.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/meters.hpp"
#include "tests/actors/deterministic_system.hpp"
#include "storage/timestamp.hpp"

namespace actors_stage_test {

using namespace nexus;
using namespace std::chrono_literals;

namespace {

config::step_spec slow_step(std::uint32_t concurrency, std::uint32_t queue,
                            std::uint64_t latency_ms) {
  config::step_spec s;
  s.name = "build";
  s.concurrency = concurrency;
  s.queue = queue;
  s.action.simulate.latency_ms = latency_ms;
  return s;
}

step_call call(int n, std::int64_t deadline_us = storage::now_us() + 3'600'000'000) {
  return {"c-" + std::to_string(n), "pipe", "build", 1, false, "{}", deadline_us};
}

/// What a caller of the stage saw: the answers and the pressure messages.
struct seen {
  std::vector<step_result> answers;
  std::vector<bool> pressure;
  std::optional<actors::stage_stats> stats;
};

/// Calls the stage as a saga does (plain messages; the answers come back
/// as messages) and watches it, recording what comes.
caf::behavior caller(caf::event_based_actor* self, actors::stage_actor stage,
                     std::shared_ptr<seen> s) {
  self->send(stage, watch_atom::value);
  return {
    [=](step_call& c) { self->send(stage, execute_atom::value, std::move(c)); },
    [=](step_result& r) { s->answers.push_back(std::move(r)); },
    [=](pressure_atom, const std::string& name, bool full) {
      BOOST_TEST(name == "pipe/build");
      s->pressure.push_back(full);
    },
    [=](stats_atom) {
      self->request(stage, caf::infinite, stats_atom::value)
        .then([=](actors::stage_stats& st) { s->stats = st; });
    },
  };
}

/// A stage and its caller on the deterministic scheduler.
struct stage_world : test::deterministic_system {
  config::step_spec step;
  /// What the stage counts for the metrics (every stage here has them).
  runtime::step_meters meters;
  actors::stage_actor stage;
  caf::actor probe;
  std::shared_ptr<seen> got = std::make_shared<seen>();

  explicit stage_world(config::step_spec s,
                       const runtime::definition_catalog* definitions = nullptr)
    : step(std::move(s)) {
    stage = actors::spawn_stage(*sys, "pipe", step, 1, 1000, nullptr, definitions, false, &meters);
    probe = sys->spawn(caller, stage, got);
    sched->run();
  }

  ~stage_world() { stop(stage, probe); }

  void send(step_call c) {
    caf::anon_send(probe, std::move(c));
    sched->run();
  }

  actors::stage_stats stats() {
    got->stats.reset();
    caf::anon_send(probe, stats_atom::value);
    sched->run();
    BOOST_REQUIRE(got->stats);
    return *got->stats;
  }
};

config::error_kind kind_of(const step_result& r) {
  return r.outcome.kind;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stage)

BOOST_AUTO_TEST_CASE(a_full_stage_runs_its_workers_queues_its_bound_and_refuses_the_rest) {
  stage_world w{slow_step(2, 10, 3'600'000)}; // nothing finishes during the test
  for (int i = 0; i < 50; ++i)
    w.send(call(i));
  BOOST_REQUIRE_EQUAL(w.got->answers.size(), 38u); // 2 run, 10 wait
  for (auto& r : w.got->answers) {
    BOOST_TEST((kind_of(r) == config::error_kind::circuit_open));
    BOOST_TEST(r.outcome.retry_after_ms >= 1);
    BOOST_TEST(r.outcome.message.find("stage pipe/build is full: 10 calls wait for its 2 workers") == 0u,
               r.outcome.message);
  }
  BOOST_TEST(w.got->pressure == (std::vector<bool>{true})); // told once
  auto s = w.stats();
  BOOST_TEST(s.running == 2u);
  BOOST_TEST(s.queued == 10u);
  BOOST_TEST(s.peak_queued == 10u);
  BOOST_TEST(s.refused == 38u);
  // The metrics see the same.
  BOOST_TEST(w.meters.staged.load());
  BOOST_TEST(w.meters.busy.load() == 2u);
  BOOST_TEST(w.meters.queued.load() == 10u);
  BOOST_TEST(w.meters.refused.load() == 38u);
  BOOST_TEST(w.meters.calls.load() == 0u);
}

BOOST_AUTO_TEST_CASE(queued_calls_run_in_turn_as_the_worker_frees_up) {
  stage_world w{slow_step(1, 100, 100)};
  for (int i = 0; i < 3; ++i)
    w.send(call(i));
  BOOST_TEST(w.got->answers.empty());
  std::vector<std::string> order;
  for (int round = 1; round <= 3; ++round) {
    w.advance(100ms);
    BOOST_REQUIRE_EQUAL(w.got->answers.size(), static_cast<std::size_t>(round));
  }
  for (auto& r : w.got->answers) {
    BOOST_TEST(r.outcome.ok);
    BOOST_TEST(r.step == "build");
  }
  auto s = w.stats();
  BOOST_TEST(s.calls == 3u);
  BOOST_TEST(s.peak_running == 1u);
  BOOST_TEST(s.peak_queued == 2u);
  BOOST_TEST(s.refused == 0u);
  // Each attempt's time on the worker is in the action's histogram; the
  // stage is idle again.
  BOOST_TEST(w.meters.calls.load() == 3u);
  BOOST_TEST(w.meters.duration[0].count() == 3u);
  BOOST_TEST(w.meters.duration[1].count() == 0u);
  BOOST_TEST(w.meters.busy.load() == 0u);
  BOOST_TEST(w.meters.queued.load() == 0u);
}

// A saga runs on the definition it started with: a call, at once or after
// waiting for a worker, runs the action its definition gives the step, not
// the stage's own (the workflow file's now).
BOOST_AUTO_TEST_CASE(each_call_runs_the_action_of_its_own_definition) {
  auto wf = [](const std::string& action) {
    auto r = config::parse_workflow(R"({"sagas": {"pipe": {"steps": [{"name": "build", )"
                                      R"("concurrency": 1, "action": )" + action + "}]}}}",
                                    "wf.json");
    BOOST_REQUIRE(r.ok());
    return *r.value;
  };
  auto now = wf(R"({"kind": "simulate", "latency_ms": 100})");
  auto then = wf(R"({"kind": "simulate", "latency_ms": 100, "fail_first": 1, "fail_kind": "permanent"})");
  runtime::definition_catalog definitions{now};
  auto* old = definitions.add(then.sagas.at("pipe"));
  stage_world w{now.sagas.at("pipe").steps[0], &definitions};
  for (int i = 0; i < 3; ++i) {
    auto c = call(i);
    c.definition = i == 1 ? definitions.current("pipe")->id : old->id;
    w.send(std::move(c)); // 0 runs at once; 1 and 2 wait for the worker
  }
  for (int round = 1; round <= 3; ++round)
    w.advance(100ms);
  BOOST_REQUIRE_EQUAL(w.got->answers.size(), 3u);
  BOOST_TEST(!w.got->answers[0].outcome.ok); // the old definition: its first attempt fails
  BOOST_TEST(w.got->answers[1].outcome.ok);  // the file's
  BOOST_TEST(!w.got->answers[2].outcome.ok); // the old one again, after waiting in the queue
  BOOST_TEST((kind_of(w.got->answers[2]) == config::error_kind::permanent));
  // A definition this node does not know is a permanent failure, never the stage's own.
  auto stranger = call(9);
  stranger.definition = 42;
  w.send(std::move(stranger));
  BOOST_REQUIRE_EQUAL(w.got->answers.size(), 4u);
  BOOST_TEST(w.got->answers[3].outcome.message.find("does not know the definition") != std::string::npos,
             w.got->answers[3].outcome.message);
}

// A simulated step that takes no time is run by the stage itself: the
// answer is out once the stage has run, no worker takes it (none is busy
// after), and it is counted as a worker's call is.
BOOST_AUTO_TEST_CASE(an_instant_call_is_answered_by_the_stage_itself_and_counted) {
  stage_world w{slow_step(1, 10, 0)};
  for (int i = 0; i < 3; ++i) {
    caf::anon_send(w.probe, call(i));
    w.sched->run_once(); // the caller sends it
    BOOST_REQUIRE(w.sched->prioritize(w.stage));
    w.sched->run_once(); // the stage answers it
    BOOST_TEST(w.meters.busy.load() == 0u);
    w.sched->run();
    BOOST_REQUIRE_EQUAL(w.got->answers.size(), static_cast<std::size_t>(i + 1));
    BOOST_TEST(w.got->answers.back().outcome.ok);
  }
  auto s = w.stats();
  BOOST_TEST(s.calls == 3u);
  BOOST_TEST(s.running == 0u);
  BOOST_TEST(w.meters.calls.load() == 3u);
  BOOST_TEST(w.meters.duration[0].count() == 3u);
  // A compensation with no action of its own is refused as any worker would.
  auto comp = call(7);
  comp.compensate = true;
  w.send(std::move(comp));
  BOOST_REQUIRE_EQUAL(w.got->answers.size(), 4u);
  BOOST_TEST(!w.got->answers.back().outcome.ok);
}

BOOST_AUTO_TEST_CASE(the_sweep_answers_a_queued_call_past_its_time_as_a_timeout) {
  stage_world w{slow_step(1, 10, 3'600'000)};
  w.send(call(0));                          // runs, for an hour
  w.send(call(1, storage::now_us() - 1)); // waits, already past its time
  BOOST_TEST(w.got->answers.empty());
  w.advance(499ms);
  BOOST_TEST(w.got->answers.empty()); // the sweep comes every 500 ms
  w.advance(1ms);
  BOOST_REQUIRE_EQUAL(w.got->answers.size(), 1u);
  auto& r = w.got->answers[0];
  BOOST_TEST((kind_of(r) == config::error_kind::timeout));
  BOOST_TEST(r.outcome.message == "step build attempt 1: its time ran out while it waited for a worker");
  BOOST_TEST(w.stats().queued == 0u);
}

BOOST_AUTO_TEST_CASE(pressure_eases_once_the_queue_is_half_empty) {
  stage_world w{slow_step(1, 4, 100)};
  for (int i = 0; i < 5; ++i) // one runs, four wait: full
    w.send(call(i));
  BOOST_TEST(w.got->pressure == (std::vector<bool>{true}));
  w.advance(100ms); // three wait
  BOOST_TEST(w.got->pressure == (std::vector<bool>{true}));
  w.advance(100ms); // two wait: half of the bound
  BOOST_TEST(w.got->pressure == (std::vector<bool>{true, false}));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_stage_test
