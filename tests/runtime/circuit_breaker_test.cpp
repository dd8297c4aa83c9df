// The circuit breaker machine, with the cases of Resilience4j's
// CircuitBreakerStateMachineTest and Akka's CircuitBreakerSpec that apply.
// Time is the `now` each call is given: nothing sleeps.
#include <boost/test/unit_test.hpp>

#include "runtime/circuit_breaker.hpp"

namespace runtime_circuit_breaker_test {

using namespace nexus;
using namespace nexus::runtime;
using config::error_kind;

namespace {

constexpr std::int64_t ms = 1000;
constexpr std::int64_t s = 1000 * ms;

struct breaker_fixture {
  config::breaker_spec spec;
  std::int64_t now = 1'000'000 * s;
  std::vector<breaker_transition> log;

  breaker_fixture() {
    spec.window_size = 10;
    spec.minimum_calls = 10;
    spec.failure_rate_threshold = 50;
    spec.slow_call_ms = 100;
    spec.open_ms = 1000;
    spec.half_open_calls = 3;
  }

  /// One call through `b`, permitted or not; true if it was.
  bool call(circuit_breaker& b, bool ok, error_kind kind = error_kind::transient,
            std::int64_t duration = 1 * ms) {
    auto p = b.try_acquire(now, log);
    if (p.permitted)
      b.on_result(p.generation, ok, kind, duration, now, log);
    return p.permitted;
  }

  void calls(circuit_breaker& b, int n, bool ok, error_kind kind = error_kind::transient) {
    for (int i = 0; i < n; ++i)
      call(b, ok, kind);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(circuit_breaker_machine)

BOOST_AUTO_TEST_CASE(it_does_not_open_before_minimum_calls) {
  breaker_fixture f;
  f.spec.minimum_calls = 5;
  circuit_breaker b{f.spec};
  f.calls(b, 4, false);
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.figures(f.now).failure_rate == -1.0);
  BOOST_TEST(b.figures(f.now).calls == 4u);
  f.call(b, false);
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_REQUIRE_EQUAL(f.log.size(), 1u);
  BOOST_TEST(f.log[0].figures.failure_rate == 100.0);
  BOOST_TEST(f.log[0].open_until_us == f.now + 1000 * ms);
  BOOST_TEST(f.log[0].reason == "failure rate 100.0% >= 50.0% over 5 calls");
}

BOOST_AUTO_TEST_CASE(it_opens_at_exactly_the_threshold_and_not_below) {
  breaker_fixture f;
  circuit_breaker below{f.spec};
  f.calls(below, 6, true);
  f.calls(below, 4, false); // 40%
  BOOST_TEST((below.state() == breaker_state::closed));
  BOOST_TEST(below.figures(f.now).failure_rate == 40.0);
  circuit_breaker at{f.spec};
  f.calls(at, 5, true);
  f.calls(at, 4, false);
  BOOST_TEST((at.state() == breaker_state::closed)); // 9 calls: below the minimum
  f.call(at, false);                                  // 5 of 10: exactly 50%
  BOOST_TEST((at.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(a_count_window_keeps_only_its_last_calls) {
  breaker_fixture f;
  circuit_breaker b{f.spec};
  f.calls(b, 4, false);
  f.calls(b, 6, true); // 40%
  f.calls(b, 4, true); // the four failures slide out
  BOOST_TEST(b.figures(f.now).failed == 0u);
  BOOST_TEST(b.figures(f.now).calls == 10u);
}

BOOST_AUTO_TEST_CASE(minimum_calls_above_a_count_window_is_capped_at_its_size) {
  breaker_fixture f;
  f.spec.window_size = 4;
  f.spec.minimum_calls = 100; // Resilience4j: min(minimum, size)
  circuit_breaker b{f.spec};
  f.calls(b, 4, false);
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(slow_calls_count_as_slow_even_when_they_succeed) {
  breaker_fixture f;
  f.spec.minimum_calls = 4;
  f.spec.window_size = 4;
  f.spec.failure_rate_threshold = 100;
  f.spec.slow_call_rate_threshold = 50;
  circuit_breaker b{f.spec};
  f.call(b, true, error_kind::transient, 100 * ms); // exactly the threshold: not slow
  f.call(b, true, error_kind::transient, 1 * ms);
  f.call(b, true, error_kind::transient, 101 * ms);
  BOOST_TEST(b.figures(f.now).slow == 1u);
  f.call(b, true, error_kind::transient, 250 * ms);
  BOOST_TEST((b.state() == breaker_state::open));
  BOOST_TEST(f.log.at(0).figures.slow_call_rate == 50.0);
  BOOST_TEST(f.log.at(0).figures.failure_rate == 0.0);
  BOOST_TEST(f.log.at(0).reason.find("slow-call rate 50.0%") == 0u);
}

BOOST_AUTO_TEST_CASE(ignored_kinds_count_neither_way_and_unrecorded_kinds_count_as_successes) {
  breaker_fixture f;
  f.spec.ignore = {error_kind::timeout};
  f.spec.record = {error_kind::transient};
  circuit_breaker b{f.spec};
  f.calls(b, 20, false, error_kind::timeout);
  BOOST_TEST(b.figures(f.now).calls == 0u);
  f.calls(b, 10, false, error_kind::permanent); // not recorded: successes
  BOOST_TEST((b.state() == breaker_state::closed));
  BOOST_TEST(b.figures(f.now).failure_rate == 0.0);
}

BOOST_AUTO_TEST_CASE(a_call_a_full_stage_refused_counts_neither_way) {
  breaker_fixture f;
  circuit_breaker b{f.spec};
  f.calls(b, 20, false, error_kind::circuit_open);
  BOOST_TEST(b.figures(f.now).calls == 0u);
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(while_open_no_call_is_permitted_and_the_wait_is_the_time_left) {
  breaker_fixture f;
  circuit_breaker b{f.spec};
  f.calls(b, 10, false);
  BOOST_REQUIRE((b.state() == breaker_state::open));
  f.now += 400 * ms;
  auto p = b.try_acquire(f.now, f.log);
  BOOST_TEST(!p.permitted);
  BOOST_TEST(p.retry_after_ms == 600);
  f.now += 599 * ms;
  BOOST_TEST(!b.try_acquire(f.now, f.log).permitted);
  BOOST_TEST(b.try_acquire(f.now, f.log).retry_after_ms == 1);
}

BOOST_AUTO_TEST_CASE(half_open_permits_exactly_its_trial_calls_and_closes_when_they_pass) {
  breaker_fixture f;
  circuit_breaker b{f.spec};
  f.calls(b, 10, false);
  f.now += 1000 * ms;
  std::vector<breaker_permit> trials;
  for (int i = 0; i < 3; ++i)
    trials.push_back(b.try_acquire(f.now, f.log));
  BOOST_TEST((b.state() == breaker_state::half_open));
  for (auto& t : trials)
    BOOST_TEST(t.permitted);
  BOOST_TEST(!b.try_acquire(f.now, f.log).permitted); // a fourth must wait
  b.on_result(trials[0].generation, true, error_kind::transient, ms, f.now, f.log);
  b.on_result(trials[1].generation, false, error_kind::transient, ms, f.now, f.log);
  BOOST_TEST((b.state() == breaker_state::half_open)); // judged on all three
  b.on_result(trials[2].generation, true, error_kind::transient, ms, f.now, f.log);
  BOOST_TEST((b.state() == breaker_state::closed));    // 33% < 50%
  BOOST_TEST(b.figures(f.now).calls == 0u);            // figures reset
  BOOST_REQUIRE_EQUAL(f.log.size(), 3u);
  BOOST_TEST((f.log[1].to == breaker_state::half_open));
  BOOST_TEST((f.log[2].to == breaker_state::closed));
  BOOST_TEST(f.log[2].figures.calls == 3u);
}

BOOST_AUTO_TEST_CASE(an_ignored_trial_gives_its_permit_back) {
  breaker_fixture f;
  f.spec.ignore = {error_kind::cancelled};
  f.spec.half_open_calls = 1;
  circuit_breaker b{f.spec};
  f.calls(b, 10, false);
  f.now += 1000 * ms;
  auto p = b.try_acquire(f.now, f.log);
  BOOST_TEST(!b.try_acquire(f.now, f.log).permitted);
  b.on_result(p.generation, false, error_kind::cancelled, ms, f.now, f.log);
  BOOST_TEST(b.try_acquire(f.now, f.log).permitted);
}

BOOST_AUTO_TEST_CASE(the_open_time_grows_on_each_reopen_up_to_its_cap_and_resets_on_close) {
  breaker_fixture f;
  f.spec.open_backoff = 2.0;
  f.spec.max_open_ms = 3000;
  f.spec.half_open_calls = 1;
  circuit_breaker b{f.spec};
  f.calls(b, 10, false);
  std::vector<std::int64_t> open_for{b.open_until_us() - f.now};
  for (int i = 0; i < 3; ++i) { // the trial fails each time
    f.now = b.open_until_us();
    f.call(b, false);
    open_for.push_back(b.open_until_us() - f.now);
  }
  BOOST_TEST(open_for == (std::vector<std::int64_t>{1000 * ms, 2000 * ms, 3000 * ms, 3000 * ms}));
  BOOST_TEST(b.reopens() == 3u);
  f.now = b.open_until_us();
  f.call(b, true);
  BOOST_TEST((b.state() == breaker_state::closed));
  f.calls(b, 10, false);
  BOOST_TEST(b.open_until_us() - f.now == 1000 * ms);
}

BOOST_AUTO_TEST_CASE(a_time_window_drops_buckets_older_than_its_size) {
  breaker_fixture f;
  f.spec.window = config::window_type::time;
  f.spec.window_size = 10; // seconds
  f.spec.minimum_calls = 4;
  circuit_breaker b{f.spec};
  f.calls(b, 3, false);
  f.now += 5 * s;
  BOOST_TEST(b.figures(f.now).calls == 3u);
  f.now += 6 * s; // the first three are 11 s old
  BOOST_TEST(b.figures(f.now).calls == 0u);
  f.call(b, false);
  BOOST_TEST((b.state() == breaker_state::closed)); // 1 call, not 4
  f.calls(b, 3, false);
  BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(a_result_from_before_a_transition_is_not_counted) {
  breaker_fixture f;
  f.spec.half_open_calls = 1;
  circuit_breaker b{f.spec};
  auto early = b.try_acquire(f.now, f.log); // permitted while closed
  f.calls(b, 10, false);
  f.now += 1000 * ms;
  auto trial = b.try_acquire(f.now, f.log);
  b.on_result(early.generation, false, error_kind::transient, ms, f.now, f.log);
  BOOST_TEST((b.state() == breaker_state::half_open)); // the late failure is no trial
  b.on_result(trial.generation, true, error_kind::transient, ms, f.now, f.log);
  BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(forced_open_refuses_everything_and_disabled_permits_everything) {
  breaker_fixture f;
  f.spec.state = config::breaker_override::forced_open;
  circuit_breaker forced{f.spec};
  BOOST_TEST(!forced.try_acquire(f.now, f.log).permitted);
  f.now += 3600 * s;
  BOOST_TEST(!forced.try_acquire(f.now, f.log).permitted);
  f.spec.state = config::breaker_override::disabled;
  circuit_breaker off{f.spec};
  for (int i = 0; i < 50; ++i)
    BOOST_TEST(f.call(off, false));
  BOOST_TEST((off.state() == breaker_state::disabled));
  BOOST_TEST(f.log.empty());
}

BOOST_AUTO_TEST_CASE(a_restart_continues_an_open_breaker_and_an_override_wins) {
  breaker_fixture f;
  circuit_breaker b{f.spec};
  b.restore(breaker_state::open, f.now + 700 * ms, 2, f.now, f.log);
  BOOST_TEST(f.log.empty());
  BOOST_TEST(b.try_acquire(f.now, f.log).retry_after_ms == 700);
  BOOST_TEST(b.reopens() == 2u);
  f.spec.state = config::breaker_override::forced_open;
  circuit_breaker forced{f.spec};
  forced.restore(breaker_state::closed, 0, 0, f.now, f.log);
  BOOST_REQUIRE_EQUAL(f.log.size(), 1u);
  BOOST_TEST((f.log[0].to == breaker_state::forced_open));
  f.spec.state = config::breaker_override::none;
  circuit_breaker released{f.spec};
  released.restore(breaker_state::forced_open, 0, 0, f.now, f.log);
  BOOST_TEST((released.state() == breaker_state::closed));
  BOOST_TEST((f.log.back().to == breaker_state::closed));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_circuit_breaker_test
