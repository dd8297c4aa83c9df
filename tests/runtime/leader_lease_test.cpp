// When a leader may acknowledge, on a clock the test moves: until the
// lease it renewed could expire in etcd, less the margin; never after a
// loss on the strength of a renewal sent before it.
#include <boost/test/unit_test.hpp>

#include "runtime/leader_lease.hpp"

namespace runtime_leader_lease_test {

using nexus::runtime::leader_lease;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(leader_lease_rules)

BOOST_AUTO_TEST_CASE(nothing_is_acknowledged_before_the_first_grant) {
  leader_lease l{3000ms, 200ms};
  BOOST_TEST(!l.may_acknowledge(0));
  BOOST_TEST(!l.may_acknowledge(1'000'000));
  BOOST_TEST(l.ttl_seconds() == 3);
  BOOST_TEST(leader_lease(500ms, 100ms).ttl_seconds() == 1);   // at least a second
  BOOST_TEST(leader_lease(2500ms, 100ms).ttl_seconds() == 3);  // rounded up
}

BOOST_AUTO_TEST_CASE(a_renewal_holds_from_when_it_was_sent_less_the_margin) {
  leader_lease l{3000ms, 200ms};
  l.renewed(1'000'000, 3); // sent at 1 s, 3 s left
  BOOST_TEST(l.may_acknowledge(1'000'000));
  BOOST_TEST(l.may_acknowledge(3'799'999));
  BOOST_TEST(!l.may_acknowledge(3'800'000)); // 1 s + 3 s - 0.2 s
  BOOST_TEST(l.next_renewal_us() == 2'000'000); // a third of the lease on
  l.renewed(2'000'000, 3);
  BOOST_TEST(l.may_acknowledge(4'799'999));
  BOOST_TEST(!l.may_acknowledge(4'800'000));
}

BOOST_AUTO_TEST_CASE(a_grant_of_whole_seconds_never_stretches_the_lease_asked_for) {
  leader_lease l{2500ms, 100ms};
  l.renewed(0, 3); // etcd counts in seconds: 3 granted for 2.5 asked
  BOOST_TEST(l.may_acknowledge(2'399'999));
  BOOST_TEST(!l.may_acknowledge(2'400'000));
}

BOOST_AUTO_TEST_CASE(an_answer_sent_earlier_never_shortens_a_later_one) {
  leader_lease l{3000ms, 0ms};
  l.renewed(2'000'000, 3);
  l.renewed(1'000'000, 3); // an older renewal's answer, come late
  BOOST_TEST(l.may_acknowledge(4'999'999));
}

BOOST_AUTO_TEST_CASE(a_loss_stops_at_once_and_an_older_renewal_cannot_undo_it) {
  leader_lease l{3000ms, 200ms};
  l.renewed(0, 3);
  l.lost(1'000'000);
  BOOST_TEST(!l.may_acknowledge(1'000'000));
  l.renewed(900'000, 3); // sent before the loss was found
  BOOST_TEST(!l.may_acknowledge(1'000'001));
  l.renewed(1'500'000, 0); // etcd: the lease is gone
  BOOST_TEST(!l.may_acknowledge(1'500'001));
  l.renewed(2'000'000, 3); // a new lease, won again
  BOOST_TEST(l.may_acknowledge(2'000'001));
  BOOST_TEST(!l.may_acknowledge(4'800'000));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_leader_lease_test
