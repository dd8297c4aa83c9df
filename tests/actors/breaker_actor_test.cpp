// The breaker actor in the call path, on CAF's deterministic scheduler:
// what reaches the stage, what the saga is told, what lands in the event
// log, and the open period ending on the test clock.
#include <memory>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "tests/actors/deterministic_system.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"
#include "tests/temp_dir.hpp"

namespace actors_breaker_actor_test {

using namespace nexus;
using namespace std::chrono_literals;

namespace {

/// A stage that counts the calls it gets and fails each one (or, once
/// `*healthy`, succeeds), reporting to the breaker that delegated the call
/// as real stages do.
call_runner::behavior_type stage_probe(call_runner::pointer self, std::shared_ptr<int> calls,
                                       std::shared_ptr<bool> healthy) {
  return {
    [=](execute_atom, const step_call& call, const outcome_listener& breaker,
        std::uint64_t id) -> step_result {
      ++*calls;
      auto kind = static_cast<std::uint8_t>(config::error_kind::transient); // read only if not ok
      self->send(breaker, report_atom::value, id, *healthy, kind);
      return *healthy ? step_result::answer(call, runtime::outcome::success("{}"))
                      : step_result::failure(call, config::error_kind::transient, "service down");
    },
  };
}

/// Calls the breaker as a saga does, recording the kinds of the answers.
caf::behavior caller(caf::event_based_actor* self, actors::breaker_actor breaker,
                     std::shared_ptr<std::vector<config::error_kind>> kinds) {
  return {
    [=](step_call& call) {
      self->request(breaker, caf::infinite, execute_atom::value, std::move(call))
        .then([=](step_result& r) { kinds->push_back(r.outcome.kind); });
    },
  };
}

/// A run: the writer, the stage, the breaker (continuing from the log) and
/// a caller, all on the test scheduler; the breaker's time of day follows
/// the test clock from the real time at the world's start.
struct run_world : test::deterministic_system {
  std::int64_t base_us = storage::now_us();
  actors::log_writer writer;
  call_runner stage;
  actors::breaker_actor breaker;
  caf::actor probe;
  std::shared_ptr<std::vector<config::error_kind>> kinds =
    std::make_shared<std::vector<config::error_kind>>();

  run_world(storage::event_log& log, const config::breaker_spec& spec, std::shared_ptr<int> calls,
            std::shared_ptr<bool> healthy) {
    writer = actors::spawn_event_log_writer(*sys, log, 16, actors::placement::scheduler);
    stage = sys->spawn(stage_probe, calls, healthy);
    actors::breaker_setup setup;
    setup.resource = "payments";
    setup.spec = &spec;
    setup.writer = writer;
    setup.stages[actors::stage_key("order", "charge")] = stage;
    storage::status s = storage::status::ok();
    setup.stored = log.find_breaker("payments", s);
    setup.now_us = [this] { return now_us(); };
    breaker = actors::spawn_breaker(*sys, std::move(setup));
    probe = sys->spawn(caller, breaker, kinds);
    sched->run();
  }

  ~run_world() { stop(writer, stage, breaker, probe); }

  std::int64_t now_us() const {
    return base_us
           + std::chrono::duration_cast<std::chrono::microseconds>(
               sched->clock().now().time_since_epoch())
               .count();
  }

  /// Makes `n` calls one after another, each answered before the next.
  void call(int n) {
    for (int i = 0; i < n; ++i) {
      caf::anon_send(probe, step_call{"ord-" + std::to_string(i), "order", "charge", 1, false,
                                      "{}", now_us() + 10'000'000});
      sched->run();
    }
  }

};

struct breaker_world {
  test::temp_dir dir;
  std::unique_ptr<storage::event_log> log;
  config::breaker_spec spec;
  std::shared_ptr<int> calls = std::make_shared<int>(0);
  std::shared_ptr<bool> healthy = std::make_shared<bool>(false);

  breaker_world() {
    spec.window_size = 4;
    spec.minimum_calls = 2;
    spec.open_ms = 600000; // stays open for the whole test unless the clock is moved
    spec.max_open_ms = 600000;
    reopen();
  }

  void reopen() {
    log.reset();
    std::string err;
    log = storage::event_log::open(
      storage::log_options::writer(dir.path(), config::durability::sync), err);
    BOOST_REQUIRE_MESSAGE(log, err);
  }

  std::unique_ptr<run_world> start() { return std::make_unique<run_world>(*log, spec, calls, healthy); }

  /// Runs `n` calls through a fresh breaker (continuing from the log) and
  /// returns the kinds of the answers; what it wrote is stored once it returns.
  std::vector<config::error_kind> run(int n) {
    auto w = start();
    w->call(n);
    return *w->kinds;
  }

  std::vector<storage::event> events() {
    std::vector<storage::event> out;
    BOOST_REQUIRE(log->read_events("breaker:payments", 1, UINT64_MAX, [&](const storage::event& e) {
      out.push_back(e);
      return true;
    }).is_ok());
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(breaker_actor)

BOOST_AUTO_TEST_CASE(while_open_no_call_reaches_the_stage_and_the_saga_hears_circuit_open) {
  breaker_world w;
  auto kinds = w.run(7);
  BOOST_TEST(*w.calls == 2); // the two that opened it
  using k = config::error_kind;
  BOOST_TEST(kinds == (std::vector<k>{k::transient, k::transient, k::circuit_open, k::circuit_open,
                                      k::circuit_open, k::circuit_open, k::circuit_open}));
}

BOOST_AUTO_TEST_CASE(a_transition_is_logged_with_its_rates_and_the_row_is_written) {
  breaker_world w;
  w.run(3);
  auto events = w.events();
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST((events[0].type == storage::event_type::breaker_opened));
  BOOST_TEST(events[0].failure_rate == 100.0);
  BOOST_TEST(events[0].calls == 2u);
  BOOST_TEST(events[0].retry_at_us > events[0].ts_us);
  BOOST_TEST(events[0].message.find("closed -> open") == 0u);
  storage::status s = storage::status::ok();
  auto row = w.log->find_breaker("payments", s);
  BOOST_REQUIRE(row.has_value());
  BOOST_TEST(row->state == "open");
  BOOST_TEST(row->last_seq == 1u);
  BOOST_TEST(row->open_until_us == events[0].retry_at_us);
}

BOOST_AUTO_TEST_CASE(an_open_breaker_stays_open_across_a_restart) {
  breaker_world w;
  w.run(2);
  BOOST_REQUIRE(*w.calls == 2);
  w.reopen();
  auto kinds = w.run(3); // a new run, the same log
  BOOST_TEST(*w.calls == 2);
  for (auto kind : kinds)
    BOOST_TEST((kind == config::error_kind::circuit_open));
}

BOOST_AUTO_TEST_CASE(a_forced_open_override_refuses_every_call_and_says_so_in_the_log) {
  breaker_world w;
  w.spec.state = config::breaker_override::forced_open;
  auto kinds = w.run(3);
  BOOST_TEST(*w.calls == 0);
  for (auto kind : kinds)
    BOOST_TEST((kind == config::error_kind::circuit_open));
  storage::status s = storage::status::ok();
  BOOST_TEST(w.log->find_breaker("payments", s)->state == "forced_open");
}

BOOST_AUTO_TEST_CASE(the_open_period_ends_on_the_clock_and_a_good_trial_closes_it) {
  breaker_world w;
  w.spec.open_ms = 1000;
  w.spec.max_open_ms = 1000;
  w.spec.half_open_calls = 1;
  auto run = w.start();
  run->call(3);
  BOOST_TEST(*w.calls == 2);
  run->advance(999ms);
  run->call(1);
  BOOST_TEST(*w.calls == 2); // still open a millisecond before its time
  run->advance(1ms);          // the half-open timer fires
  *w.healthy = true;
  run->call(1);                // the trial
  BOOST_TEST(*w.calls == 3);
  run->call(2);
  BOOST_TEST(*w.calls == 5); // closed again: calls go through
  std::vector<std::string> types;
  std::vector<std::int64_t> at;
  for (auto& e : w.events()) {
    types.emplace_back(storage::to_string(e.type));
    at.push_back(e.ts_us);
  }
  BOOST_TEST(types == (std::vector<std::string>{"breaker_opened", "breaker_half_open",
                                                "breaker_closed"}),
             boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(at.size(), 3u);
  BOOST_TEST(at[1] - at[0] == 1'000'000); // exactly its open time, on the test clock
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_breaker_actor_test
