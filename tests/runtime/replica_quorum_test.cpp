// Which batches a replicating leader may acknowledge: those durable on it
// and on at least min_replicas followers; never fewer after a follower
// leaves; none while too few followers are replicas.
#include <boost/test/unit_test.hpp>

#include "runtime/replica_quorum.hpp"

namespace runtime_replica_quorum_test {

using nexus::runtime::replica_quorum;

BOOST_AUTO_TEST_SUITE(replica_quorum_rules)

BOOST_AUTO_TEST_CASE(a_batch_needs_the_leader_and_min_replicas_followers) {
  replica_quorum q{2};
  q.local_durable(10);
  BOOST_TEST(q.committed() == 0u); // no follower yet
  q.follower_durable("b", 8);
  BOOST_TEST(q.committed() == 0u); // one of two
  q.follower_durable("c", 5);
  BOOST_TEST(q.committed() == 5u); // both hold 5
  q.follower_durable("d", 9);
  BOOST_TEST(q.committed() == 8u); // b and d hold 8
  q.follower_durable("d", 12);
  BOOST_TEST(q.committed() == 8u); // the leader's own sync bounds it: d's 12, b's 8
  q.local_durable(12);
  BOOST_TEST(q.committed() == 8u);
  q.follower_durable("b", 12);
  BOOST_TEST(q.committed() == 12u);
}

BOOST_AUTO_TEST_CASE(followers_ahead_of_the_leader_count_only_up_to_its_sync) {
  replica_quorum q{1};
  q.follower_durable("b", 7); // synced there first
  BOOST_TEST(q.committed() == 0u);
  q.local_durable(4);
  BOOST_TEST(q.committed() == 4u);
}

BOOST_AUTO_TEST_CASE(what_was_committed_stays_committed_and_old_reports_change_nothing) {
  replica_quorum q{1};
  q.local_durable(10);
  q.follower_durable("b", 6);
  BOOST_TEST(q.committed() == 6u);
  q.follower_durable("b", 3); // an older report, come late
  BOOST_TEST(q.committed() == 6u);
  q.follower_gone("b");
  BOOST_TEST(q.replicas() == 0u);
  BOOST_TEST(q.committed() == 6u); // acknowledged is acknowledged
  q.local_durable(20);
  BOOST_TEST(q.committed() == 6u); // no replica: nothing more
  q.follower_durable("c", 15);
  BOOST_TEST(q.committed() == 15u);
}

BOOST_AUTO_TEST_CASE(with_no_replica_asked_for_the_leaders_sync_is_enough) {
  replica_quorum q{0};
  q.local_durable(3);
  BOOST_TEST(q.committed() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_replica_quorum_test
