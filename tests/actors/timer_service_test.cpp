// The timer service on CAF's deterministic scheduler: what it tells, in
// which order, and when, against an index held in memory and the test
// clock. No thread, no sleep: time moves when the test moves it.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/messages.hpp"
#include "actors/timer_service.hpp"
#include "storage/keys.hpp"
#include "tests/actors/deterministic_system.hpp"

namespace actors_timer_service_test {

using namespace nexus;
using namespace std::chrono_literals;

namespace {

using told = std::vector<std::pair<std::string, std::int64_t>>;

/// Records what the service tells, in order, with the test time it came at.
caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<told> out,
                       std::shared_ptr<std::vector<std::int64_t>> at,
                       std::function<std::int64_t()> now) {
  return {
    [=](wake_atom, const std::string& cid, std::int64_t wake_us) {
      out->emplace_back(cid, wake_us);
      at->push_back(now());
    },
  };
}

/// The index (the `timers` family's keys, in their order), the service and
/// the recorder, on the test clock, which starts at 0 µs.
struct timer_world : test::deterministic_system {
  std::map<std::string, std::string> index; ///< timer key -> cid
  std::shared_ptr<told> out = std::make_shared<told>();
  std::shared_ptr<std::vector<std::int64_t>> at = std::make_shared<std::vector<std::int64_t>>();
  caf::actor target, service;

  std::int64_t now() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
             sched->clock().current_time.time_since_epoch())
      .count();
  }

  void set(std::int64_t wake_us, const std::string& cid) {
    index[storage::timer_key(wake_us, cid)] = cid;
  }

  void start(std::int64_t lookahead_us, std::uint32_t batch = 1024) {
    auto clock = [this] { return now(); };
    target = sys->spawn(recorder, out, at, clock);
    actors::timer_setup setup;
    setup.scan = [this](std::string_view after, const auto& visit) {
      auto i = after.empty() ? index.begin() : index.upper_bound(std::string{after});
      for (; i != index.end(); ++i) {
        std::int64_t wake = 0;
        std::string_view cid;
        BOOST_REQUIRE(storage::decode_timer_key(i->first, wake, cid));
        if (!visit(wake, cid, i->first))
          break;
      }
      return storage::status::ok();
    };
    setup.target = target;
    setup.lookahead_us = lookahead_us;
    setup.now_us = clock;
    setup.batch = batch;
    service = actors::spawn_timer_service(*sys, std::move(setup), actors::placement::scheduler);
    run();
  }

  ~timer_world() { stop(service, target); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(timer_service)

BOOST_AUTO_TEST_CASE(timers_due_before_the_start_fire_at_once_the_rest_when_due_in_due_order) {
  timer_world w;
  w.set(3'000'000, "c");
  w.set(1'000'000, "b");
  w.set(0, "a"); // due while no process ran
  w.set(1'000'000, "a2");
  w.sched->advance_time(2s); // the process starts at +2 s
  w.start(0);
  BOOST_TEST((*w.out == told{{"a", 0}, {"a2", 1'000'000}, {"b", 1'000'000}}));
  w.advance(999ms); // +2.999 s: c not yet
  BOOST_TEST(w.out->size() == 3u);
  w.advance(1ms);
  BOOST_REQUIRE(w.out->size() == 4u);
  BOOST_TEST(w.out->back().first == "c");
  BOOST_TEST(w.at->back() == 3'000'000);
  w.advance(10s); // each once
  BOOST_TEST(w.out->size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_timer_is_told_its_look_ahead_before_it_is_due) {
  timer_world w;
  w.set(10'000'000, "x");
  w.start(5'000'000);
  BOOST_TEST(w.out->empty());
  w.advance(4999ms);
  BOOST_TEST(w.out->empty());
  w.advance(1ms);
  BOOST_REQUIRE(w.out->size() == 1u);
  BOOST_TEST(w.at->front() == 5'000'000);
}

BOOST_AUTO_TEST_CASE(a_timer_set_later_and_due_sooner_than_the_next_is_told_in_time) {
  timer_world w;
  w.set(60'000'000, "late");
  w.start(0);
  w.set(20'000'000, "soon"); // a saga parked meanwhile, durably, then says so
  caf::anon_send(w.service, park_atom::value, std::int64_t{20'000'000});
  w.run();
  w.advance(20s);
  BOOST_TEST((*w.out == told{{"soon", 20'000'000}}));
  BOOST_TEST(w.at->front() == 20'000'000);
  w.advance(40s);
  BOOST_TEST((*w.out == told{{"soon", 20'000'000}, {"late", 60'000'000}}));
}

BOOST_AUTO_TEST_CASE(a_second_full_of_timers_is_told_in_batches_all_in_due_order) {
  timer_world w;
  for (int i = 9; i >= 0; --i)
    w.set(1'000'000, "s" + std::to_string(i)); // one time: then by ID
  w.set(999'999, "first");
  w.start(0, 3);
  w.advance(1s);
  BOOST_REQUIRE(w.out->size() == 11u);
  BOOST_TEST(w.out->front().first == "first");
  for (int i = 0; i < 10; ++i)
    BOOST_TEST((*w.out)[static_cast<size_t>(i + 1)].first == "s" + std::to_string(i));
  BOOST_TEST(w.at->back() == 1'000'000); // all in the instant they were due
}

BOOST_AUTO_TEST_CASE(an_empty_index_holds_no_timer_until_one_is_set) {
  timer_world w;
  w.start(0);
  BOOST_TEST(w.sched->clock().schedule().empty());
  w.set(5'000'000, "p");
  caf::anon_send(w.service, park_atom::value, std::int64_t{5'000'000});
  w.run();
  BOOST_TEST(w.sched->clock().schedule().size() == 1u);
  w.advance(5s);
  BOOST_TEST((*w.out == told{{"p", 5'000'000}}));
}

BOOST_AUTO_TEST_CASE(a_timer_centuries_away_is_looked_at_again_each_day_and_never_told_early) {
  timer_world w;
  auto far = storage::timer_key(253402300799000000, "y9999"); // 9999-12-31T23:59:59Z
  w.index[far] = "y9999";
  w.start(5'000'000);
  BOOST_REQUIRE(w.sched->clock().schedule().size() == 1u);
  auto next = w.sched->clock().schedule().begin()->first - w.sched->clock().current_time;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::hours>(next).count() <= 24);
  w.advance(std::chrono::hours(24));
  BOOST_TEST(w.out->empty());
  BOOST_TEST(w.sched->clock().schedule().size() == 1u); // a day on again
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_timer_service_test
