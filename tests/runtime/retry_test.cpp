#include <boost/test/unit_test.hpp>

#include "runtime/retry.hpp"
#include "runtime/simulate.hpp"

namespace runtime_retry_test {

using namespace nexus;
using nexus::runtime::retry_delay_ms;

BOOST_AUTO_TEST_SUITE(retry_math)

BOOST_AUTO_TEST_CASE(delays_grow_by_backoff_and_stop_at_the_cap) {
  config::retry_policy p;
  p.initial_interval_ms = 100;
  p.backoff = 2.0;
  p.max_interval_ms = 1000;
  p.jitter = 0.0;
  BOOST_TEST(retry_delay_ms(p, 1, 0.5) == 100);
  BOOST_TEST(retry_delay_ms(p, 2, 0.5) == 200);
  BOOST_TEST(retry_delay_ms(p, 4, 0.5) == 800);
  BOOST_TEST(retry_delay_ms(p, 5, 0.5) == 1000);
  BOOST_TEST(retry_delay_ms(p, 60, 0.5) == 1000);
}

BOOST_AUTO_TEST_CASE(jitter_spreads_the_delay_both_ways) {
  config::retry_policy p;
  p.initial_interval_ms = 1000;
  p.jitter = 0.2;
  BOOST_TEST(retry_delay_ms(p, 1, 0.0) == 800);
  BOOST_TEST(retry_delay_ms(p, 1, 0.5) == 1000);
  BOOST_TEST(retry_delay_ms(p, 1, 0.999999) == 1200);
}

BOOST_AUTO_TEST_CASE(attempts_and_kinds_bound_retrying) {
  config::retry_policy p;
  p.max_attempts = 3;
  BOOST_TEST(runtime::may_retry(p, 2, config::error_kind::transient));
  BOOST_TEST(!runtime::may_retry(p, 3, config::error_kind::transient));
  BOOST_TEST(!runtime::may_retry(p, 1, config::error_kind::permanent));
  p.max_attempts = 0;
  BOOST_TEST(runtime::may_retry(p, 100000, config::error_kind::timeout));
}

BOOST_AUTO_TEST_CASE(simulated_steps_are_deterministic_and_honour_fail_first) {
  config::simulate_action a;
  a.fail_first = 2;
  a.fail_kind = config::error_kind::permanent;
  auto first = runtime::simulate(a, "cid", "s", 1, false);
  BOOST_TEST(!first.ok);
  BOOST_TEST((first.kind == config::error_kind::permanent));
  BOOST_TEST(!runtime::simulate(a, "cid", "s", 2, false).ok);
  auto third = runtime::simulate(a, "cid", "s", 3, false);
  BOOST_TEST(third.ok);
  BOOST_TEST(third.output == runtime::simulate(a, "cid", "s", 3, false).output);
}

BOOST_AUTO_TEST_CASE(simulated_fail_rate_is_close_to_the_setting) {
  config::simulate_action a;
  a.fail_rate = 0.25;
  a.seed = 9;
  int failures = 0;
  for (int i = 0; i < 10000; ++i)
    failures += runtime::simulate(a, "c-" + std::to_string(i), "s", 1, false).ok ? 0 : 1;
  BOOST_TEST(failures > 2300);
  BOOST_TEST(failures < 2700);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_retry_test
