#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runtime/meters.hpp"
#include "runtime/outcome.hpp"

namespace runtime_meters_test {

using namespace nexus;
using runtime::histogram_meter;

BOOST_AUTO_TEST_SUITE(meters)

BOOST_AUTO_TEST_CASE(a_value_falls_in_the_first_bucket_whose_bound_it_does_not_pass) {
  histogram_meter h{{10, 100, 1000}};
  for (std::int64_t v : {0, 10, 11, 100, 999, 1000, 1001, 50'000})
    h.observe(v);
  // le 10: 0 and 10; le 100: 11 and 100; le 1000: 999 and 1000; +Inf: the rest.
  BOOST_TEST((h.counts() == std::vector<std::uint64_t>{2, 2, 2, 2}));
  BOOST_TEST(h.count() == 8u);
  BOOST_TEST(h.sum() == 0 + 10 + 11 + 100 + 999 + 1000 + 1001 + 50'000);
}

BOOST_AUTO_TEST_CASE(duration_buckets_run_from_half_a_millisecond_to_five_minutes) {
  auto b = histogram_meter::duration_bounds();
  BOOST_TEST(b.front() == 500);
  BOOST_TEST(b.back() == 300'000'000);
  BOOST_TEST(std::is_sorted(b.begin(), b.end()));
  BOOST_TEST((std::set<std::int64_t>(b.begin(), b.end()).size() == b.size()));
}

BOOST_AUTO_TEST_CASE(observations_from_several_threads_are_all_counted) {
  histogram_meter h{histogram_meter::duration_bounds()};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10'000; ++i)
        h.observe(t * 1'000'000 + i);
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST(h.count() == 40'000u);
  std::int64_t sum = 0;
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 10'000; ++i)
      sum += t * 1'000'000 + i;
  BOOST_TEST(h.sum() == sum);
}

BOOST_AUTO_TEST_CASE(attempts_are_counted_by_kind_and_outcome) {
  runtime::step_meters m;
  m.attempt_ended(false, runtime::outcome::success("{}"));
  m.attempt_ended(false, runtime::outcome::success("{}"));
  m.attempt_ended(false, runtime::outcome::failure(config::error_kind::timeout, "slow"));
  m.attempt_ended(true, runtime::outcome::failure(config::error_kind::circuit_open, "open"));
  auto index = [](const char* name) {
    for (std::size_t i = 0; i < runtime::outcome_kinds; ++i)
      if (std::string{runtime::outcome_name(i)} == name)
        return i;
    BOOST_FAIL(std::string{"no outcome named "} + name);
    return std::size_t{0};
  };
  BOOST_TEST(m.attempts[0][index("succeeded")].load() == 2u);
  BOOST_TEST(m.attempts[0][index("timeout")].load() == 1u);
  BOOST_TEST(m.attempts[1][index("circuit_open")].load() == 1u);
  BOOST_TEST(m.attempts[1][index("succeeded")].load() == 0u);
  // Every error kind has a name of its own.
  std::set<std::string> names;
  for (std::size_t i = 0; i < runtime::outcome_kinds; ++i)
    names.insert(runtime::outcome_name(i));
  BOOST_TEST(names.size() == runtime::outcome_kinds);
  BOOST_TEST(names.count("transient") == 1u);
  BOOST_TEST(names.count("permanent") == 1u);
  BOOST_TEST(names.count("cancelled") == 1u);
}

BOOST_AUTO_TEST_CASE(a_saga_is_timed_by_its_end_status_and_a_running_one_not_at_all) {
  runtime::saga_meters m;
  m.ended(storage::saga_status::compensated, 2'000);
  m.ended(storage::saga_status::running, 5'000); // not an end: not counted
  m.ended(storage::saga_status::completed, -3);  // a clock step back counts as 0
  BOOST_TEST(m.duration[1].count() == 1u);
  BOOST_TEST(m.duration[1].sum() == 2'000);
  BOOST_TEST(m.duration[0].count() == 1u);
  BOOST_TEST(m.duration[0].sum() == 0);
  BOOST_TEST(std::string{runtime::saga_meters::status_name(1)} == "compensated");
}

BOOST_AUTO_TEST_CASE(the_board_hands_out_one_meter_per_name_and_visits_each_once) {
  runtime::meter_board board;
  auto& a = board.step("order", "charge");
  auto& b = board.step("order", "ship");
  BOOST_TEST(&board.step("order", "charge") == &a);
  BOOST_TEST(&a != &b);
  BOOST_TEST(&board.saga("order") == &board.saga("order"));
  board.breaker("payments").transitions[0] += 2;
  a.calls += 5;
  std::vector<std::string> seen;
  board.for_each_step([&](const std::string& saga, const std::string& step,
                          const runtime::step_meters& m) {
    seen.push_back(saga + "/" + step + "=" + std::to_string(m.calls.load()));
  });
  BOOST_TEST((seen == std::vector<std::string>{"order/charge=5", "order/ship=0"}));
  std::uint64_t opened = 0;
  board.for_each_breaker([&](const std::string& resource, const runtime::breaker_meters& m) {
    BOOST_TEST(resource == "payments");
    opened = m.transitions[0].load();
  });
  BOOST_TEST(opened == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_meters_test
