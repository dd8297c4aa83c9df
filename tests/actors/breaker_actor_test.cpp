// The breaker actor in the call path: what reaches the stage, what the saga
// is told, and what lands in the event log.
#include <atomic>
#include <memory>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"
#include "tests/temp_dir.hpp"

using namespace nexus;

namespace {

/// A stage that counts the calls it gets and fails each one, reporting to
/// the breaker that delegated the call as real stages do.
caf::behavior failing_stage(caf::event_based_actor* self, std::shared_ptr<std::atomic<int>> calls) {
  auto down = static_cast<std::uint8_t>(config::error_kind::transient);
  return {
    [=](execute_atom, const step_call& call, const caf::actor& breaker, std::uint64_t id) {
      ++*calls;
      self->send(breaker, report_atom::value, id, false, down);
      return step_result::failure(call, config::error_kind::transient, "service down");
    },
  };
}

struct breaker_world {
  test::temp_dir dir;
  std::unique_ptr<storage::event_log> log;
  config::breaker_spec spec;
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  breaker_world() {
    spec.window_size = 4;
    spec.minimum_calls = 2;
    spec.open_ms = 600000; // stays open for the whole test
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

  /// Runs `n` calls through a fresh breaker (continuing from the log) and
  /// returns the kinds of the answers.
  std::vector<config::error_kind> run(int n) {
    std::vector<config::error_kind> kinds;
    actors::system_config cfg{2};
    caf::actor_system sys{cfg};
    auto writer = actors::spawn_event_log_writer(sys, *log, 16);
    auto stage = sys.spawn(failing_stage, calls);
    actors::breaker_setup setup;
    setup.resource = "payments";
    setup.spec = &spec;
    setup.writer = writer;
    setup.stages[actors::stage_key("order", "charge")] = stage;
    storage::status s = storage::status::ok();
    setup.stored = log->find_breaker("payments", s);
    auto breaker = actors::spawn_breaker(sys, std::move(setup));
    {
      caf::scoped_actor self{sys};
      for (int i = 0; i < n; ++i) {
        step_call call{"ord-" + std::to_string(i), "order", "charge", 1, false, "{}",
                       storage::now_us() + 10'000'000};
        self->request(breaker, caf::infinite, execute_atom::value, call)
          .receive([&](step_result& r) { kinds.push_back(r.outcome.kind); },
                   [&](caf::error& e) { BOOST_FAIL(caf::to_string(e)); });
      }
      // A stage reports to the breaker before it answers the caller, so once
      // the breaker answers this, it has counted every call above and sent
      // its appends; the writer answers in order, so once the empty append
      // below is acknowledged, those are stored.
      self->request(breaker, caf::infinite, stats_atom::value).receive([](std::string&) {},
                                                                       [](caf::error&) {});
      storage::append_request marker;
      marker.cid = "marker";
      self->request(writer, caf::infinite, append_atom::value, marker).receive([](ack_atom) {},
                                                                               [](caf::error&) {});
      for (auto* a : {&breaker, &stage})
        self->send_exit(*a, caf::exit_reason::user_shutdown);
      self->send_exit(writer, caf::exit_reason::user_shutdown);
      self->wait_for(writer);
    }
    return kinds;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(breaker_actor)

BOOST_AUTO_TEST_CASE(while_open_no_call_reaches_the_stage_and_the_saga_hears_circuit_open) {
  breaker_world w;
  auto kinds = w.run(7);
  BOOST_TEST(w.calls->load() == 2); // the two that opened it
  using k = config::error_kind;
  BOOST_TEST(kinds == (std::vector<k>{k::transient, k::transient, k::circuit_open, k::circuit_open,
                                      k::circuit_open, k::circuit_open, k::circuit_open}));
}

BOOST_AUTO_TEST_CASE(a_transition_is_logged_with_its_rates_and_the_row_is_written) {
  breaker_world w;
  w.run(3);
  std::vector<storage::event> events;
  BOOST_REQUIRE(w.log->read_events("breaker:payments", 1, UINT64_MAX, [&](const storage::event& e) {
    events.push_back(e);
    return true;
  }).is_ok());
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
  BOOST_REQUIRE(w.calls->load() == 2);
  w.reopen();
  auto kinds = w.run(3); // a new run, the same log
  BOOST_TEST(w.calls->load() == 2);
  for (auto kind : kinds)
    BOOST_TEST((kind == config::error_kind::circuit_open));
}

BOOST_AUTO_TEST_CASE(a_forced_open_override_refuses_every_call_and_says_so_in_the_log) {
  breaker_world w;
  w.spec.state = config::breaker_override::forced_open;
  auto kinds = w.run(3);
  BOOST_TEST(w.calls->load() == 0);
  for (auto kind : kinds)
    BOOST_TEST((kind == config::error_kind::circuit_open));
  storage::status s = storage::status::ok();
  BOOST_TEST(w.log->find_breaker("payments", s)->state == "forced_open");
}

BOOST_AUTO_TEST_SUITE_END()
