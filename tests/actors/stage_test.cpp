// A stage as a bulkhead: its workers bound the calls that run, its queue
// bounds the calls that wait, and a full queue refuses and presses.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/stage.hpp"
#include "config/workflow_loader.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/timestamp.hpp"

using namespace nexus;

namespace {

config::step_spec slow_step(std::uint32_t concurrency, std::uint32_t queue, std::uint64_t latency_ms) {
  config::step_spec s;
  s.name = "build";
  s.concurrency = concurrency;
  s.queue = queue;
  s.action.simulate.latency_ms = latency_ms;
  return s;
}

step_call call(int n) {
  return {"c-" + std::to_string(n), "pipe", "build", 1, false, "{}",
          storage::now_us() + 3'600'000'000};
}

} // namespace

BOOST_AUTO_TEST_SUITE(stage)

BOOST_AUTO_TEST_CASE(a_full_stage_runs_its_workers_queues_its_bound_and_refuses_the_rest) {
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  auto step = slow_step(2, 10, 3'600'000); // nothing finishes during the test
  auto stage = actors::spawn_stage(sys, "pipe", step, 2, 1000, nullptr);
  caf::scoped_actor self{sys};
  self->send(stage, watch_atom::value);
  for (int i = 0; i < 50; ++i)
    self->send(stage, execute_atom::value, call(i));
  int refused = 0;
  bool pressed = false;
  // 38 refusals come at once; the 12 others are running or waiting.
  self->receive_for(refused, 38)(
    [&](step_result& r) {
      BOOST_TEST((static_cast<config::error_kind>(r.kind) == config::error_kind::circuit_open));
      BOOST_TEST(r.retry_after_ms >= 1);
      BOOST_TEST(r.message.find("stage pipe/build is full") == 0u);
    },
    [&](pressure_atom, const std::string& name, bool full) {
      pressed = full && name == "pipe/build";
      --refused; // not a refusal: count it again
    },
    caf::after(std::chrono::seconds(30)) >> [&] { BOOST_FAIL("refusals did not come"); });
  if (!pressed) // the pressure message may come after the last refusal
    self->receive([&](pressure_atom, const std::string&, bool full) { pressed = full; },
                  caf::after(std::chrono::seconds(30)) >> [] {});
  BOOST_TEST(pressed);
  self->request(stage, caf::infinite, stats_atom::value)
    .receive(
      [&](actors::stage_stats& s) {
        BOOST_TEST(s.running == 2u);
        BOOST_TEST(s.queued == 10u);
        BOOST_TEST(s.peak_queued == 10u);
        BOOST_TEST(s.refused == 38u);
      },
      [](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  self->send_exit(stage, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(queued_calls_run_in_turn_and_their_callers_get_the_answers) {
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  auto step = slow_step(1, 100, 0);
  auto stage = actors::spawn_stage(sys, "pipe", step, 2, 1000, nullptr);
  caf::scoped_actor self{sys};
  for (int i = 0; i < 20; ++i)
    self->send(stage, execute_atom::value, call(i));
  int ok = 0;
  self->receive_for(ok, 20)([&](step_result& r) { BOOST_TEST(r.ok); },
                            caf::after(std::chrono::seconds(30)) >> [&] { BOOST_FAIL("answers missing"); });
  self->request(stage, caf::infinite, stats_atom::value)
    .receive([&](actors::stage_stats& s) {
               BOOST_TEST(s.calls == 20u);
               BOOST_TEST(s.peak_running == 1u);
               BOOST_TEST(s.refused == 0u);
             },
             [](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
  self->send_exit(stage, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
