// The bulkhead policy of a stage and the sweep timer, without actors: what
// becomes of a call, how long a refused one waits, and back-pressure with
// hysteresis.
#include <boost/test/unit_test.hpp>

#include "runtime/bulkhead.hpp"

namespace runtime_bulkhead_test {

using namespace nexus::runtime;
using admission = bulkhead::admission;

BOOST_AUTO_TEST_SUITE(bulkhead_policy)

BOOST_AUTO_TEST_CASE(a_call_runs_on_an_idle_worker_else_waits_up_to_the_bound_else_is_refused) {
  bulkhead b{4, 3};
  BOOST_TEST((b.admit(1, 0).what == admission::run));
  BOOST_TEST((b.admit(2, 3).what == admission::run)); // an idle worker takes it whatever waits
  BOOST_TEST((b.admit(0, 0).what == admission::wait));
  BOOST_TEST((b.admit(0, 2).what == admission::wait));
  auto refused = b.admit(0, 3);
  BOOST_TEST((refused.what == admission::refuse));
  BOOST_TEST(refused.retry_after_ms >= 1);
}

BOOST_AUTO_TEST_CASE(a_refused_call_waits_about_what_the_queue_needs_on_the_workers) {
  bulkhead b{2, 10};
  for (int i = 0; i < 200; ++i)
    b.took(40); // the average settles at 40 ms a call
  BOOST_TEST(b.call_ms() == 40.0, boost::test_tools::tolerance(0.01));
  // 10 calls ahead of it over 2 workers: 5 rounds of 40 ms.
  BOOST_TEST(b.admit(0, 10).retry_after_ms == 200);
  BOOST_TEST(b.refusal("order/charge", 10) == "stage order/charge is full: 10 calls wait for its 2 workers");
}

BOOST_AUTO_TEST_CASE(pressure_turns_on_at_the_bound_and_off_once_half_empty) {
  bulkhead b{1, 8};
  BOOST_TEST(!b.pressure(7));
  BOOST_TEST((b.pressure(8) == true));
  BOOST_TEST(!b.pressure(9));  // already pressing: said once
  BOOST_TEST(!b.pressure(5));  // not yet half empty
  BOOST_TEST((b.pressure(4) == false));
  BOOST_TEST(!b.pressure(0));
  BOOST_TEST(!b.pressing());
}

BOOST_AUTO_TEST_CASE(nonsense_sizes_are_raised_to_one) {
  bulkhead b{0, 0};
  BOOST_TEST(b.workers() == 1u);
  BOOST_TEST(b.bound() == 1u);
  BOOST_TEST((b.admit(0, 1).what == admission::refuse));
}

BOOST_AUTO_TEST_CASE(a_cluster_s_workers_follow_its_nodes_and_so_do_refusals_waits) {
  bulkhead b{1, 4}; // a cluster's dispatcher before any node joined
  for (int i = 0; i < 200; ++i)
    b.took(30);
  BOOST_TEST(b.admit(0, 4).retry_after_ms == 120); // 4 calls ahead, one worker
  b.set_workers(4);                                  // nodes of 3 and 1 joined
  BOOST_TEST(b.admit(0, 4).retry_after_ms == 30);
  BOOST_TEST(b.refusal("order/charge across the cluster", 4)
             == "stage order/charge across the cluster is full: 4 calls wait for its 4 workers");
  b.set_workers(0); // every node lost
  BOOST_TEST(b.workers() == 1u);
  bulkhead remote{1, 1, 100};
  BOOST_TEST(remote.admit(0, 1).retry_after_ms == 100); // no sooner than a round trip
}

BOOST_AUTO_TEST_CASE(one_sweep_timer_is_on_its_way_at_most) {
  sweep_timer t;
  BOOST_TEST(t.arm());
  BOOST_TEST(!t.arm());
  t.fired();
  BOOST_TEST(t.arm());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_bulkhead_test
