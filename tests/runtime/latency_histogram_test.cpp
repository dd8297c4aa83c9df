#include <boost/test/unit_test.hpp>

#include <cmath>

#include "runtime/latency_histogram.hpp"

namespace runtime_latency_histogram_test {

using nexus::runtime::latency_histogram;

BOOST_AUTO_TEST_SUITE(latency_histogram_quantiles)

BOOST_AUTO_TEST_CASE(an_empty_histogram_says_zero) {
  latency_histogram h;
  BOOST_CHECK_EQUAL(h.count(), 0u);
  BOOST_CHECK_EQUAL(h.quantile(0.5), 0u);
}

BOOST_AUTO_TEST_CASE(small_values_are_exact) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100; ++v)
    h.record(v);
  BOOST_CHECK_EQUAL(h.quantile(0.50), 50u);
  BOOST_CHECK_EQUAL(h.quantile(0.90), 90u);
  BOOST_CHECK_EQUAL(h.quantile(0.99), 99u);
  BOOST_CHECK_EQUAL(h.quantile(1.0), 100u);
  BOOST_CHECK_EQUAL(h.max(), 100u);
}

BOOST_AUTO_TEST_CASE(large_values_are_within_one_sixty_fourth) {
  // 1 us .. 100 s, spread over every power of two.
  for (std::uint64_t v = 1; v < 100'000'000; v = v * 3 / 2 + 1) {
    latency_histogram h;
    h.record(v);
    auto got = static_cast<double>(h.quantile(0.5));
    BOOST_CHECK_MESSAGE(std::abs(got - static_cast<double>(v)) <= static_cast<double>(v) / 64.0,
                        v << " came back as " << got);
  }
}

BOOST_AUTO_TEST_CASE(quantiles_of_a_uniform_spread) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v)
    h.record(v * 10); // 10 us .. 1 s
  auto near = [](std::uint64_t got, double want) {
    return std::abs(static_cast<double>(got) - want) <= want / 64.0;
  };
  BOOST_CHECK(near(h.quantile(0.50), 500'000));
  BOOST_CHECK(near(h.quantile(0.90), 900'000));
  BOOST_CHECK(near(h.quantile(0.99), 990'000));
  BOOST_CHECK_EQUAL(h.quantile(1.0), 1'000'000u); // never above the largest value
  BOOST_CHECK_EQUAL(h.count(), 100'000u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_latency_histogram_test
