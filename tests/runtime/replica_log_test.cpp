// A follower's judgement of each replicated batch: taken in order, resends
// acknowledged again, an older leader refused once a newer one is followed,
// a missing batch or a differing history sent to catch up, and the batches
// an older leader wrote and never had acknowledged dropped under a newer
// leader's.
#include <boost/test/unit_test.hpp>

#include "runtime/replica_log.hpp"

namespace runtime_replica_log_test {

using nexus::runtime::replica_log;
using nexus::runtime::replica_verdict;

BOOST_AUTO_TEST_SUITE(replica_log_matching)

BOOST_AUTO_TEST_CASE(batches_in_order_are_taken_and_resends_are_duplicates) {
  replica_log f;
  BOOST_TEST((f.judge(5, 1, 0) == replica_verdict::append));
  f.appended(5, 1);
  BOOST_TEST((f.judge(5, 2, 5) == replica_verdict::append));
  f.appended(5, 2);
  BOOST_TEST((f.judge(5, 2, 5) == replica_verdict::duplicate));
  BOOST_TEST((f.judge(5, 4, 5) == replica_verdict::gap));
  BOOST_TEST(f.last() == 2u);
  BOOST_TEST(f.epoch_at(2) == 5u);
}

BOOST_AUTO_TEST_CASE(an_older_leader_is_refused_once_a_newer_one_is_followed) {
  replica_log f;
  f.appended(5, 1);
  BOOST_TEST((f.judge(9, 2, 5) == replica_verdict::append)); // the new leader goes on
  f.appended(9, 2);
  BOOST_TEST(f.epoch() == 9u);
  BOOST_TEST((f.judge(5, 3, 5) == replica_verdict::stale_epoch));
}

BOOST_AUTO_TEST_CASE(what_an_older_leader_never_had_acknowledged_is_dropped_under_a_newer_one) {
  replica_log f;
  for (std::uint64_t p = 1; p <= 4; ++p)
    f.appended(5, p);
  // Leader 9 holds 1..2 of epoch 5 and writes its own third batch.
  BOOST_TEST((f.judge(9, 3, 5) == replica_verdict::truncate_then_append));
  f.appended(9, 3);
  BOOST_TEST(f.last() == 3u);
  BOOST_TEST(f.epoch_at(2) == 5u);
  BOOST_TEST(f.epoch_at(3) == 9u);
  BOOST_TEST(f.epoch_at(4) == 0u); // gone
}

BOOST_AUTO_TEST_CASE(a_history_that_differs_before_the_batch_sends_the_follower_to_catch_up) {
  replica_log f;
  f.appended(5, 1);
  f.appended(5, 2);
  // The leader's batch 2 is of epoch 7, not 5: the logs part before it.
  BOOST_TEST((f.judge(9, 3, 7) == replica_verdict::diverged));
  BOOST_TEST((f.judge(9, 2, 3) == replica_verdict::diverged));
}

BOOST_AUTO_TEST_CASE(after_a_checkpoint_the_next_batch_follows_on_its_last) {
  replica_log f;
  f.appended(2, 1);
  f.restored(9, 100);
  BOOST_TEST(f.last() == 100u);
  BOOST_TEST((f.judge(9, 101, 9) == replica_verdict::append));
  BOOST_TEST((f.judge(9, 50, 9) == replica_verdict::duplicate)); // inside the checkpoint
  // A newer leader writing inside it has less than its leader had written.
  BOOST_TEST((f.judge(12, 100, 9) == replica_verdict::diverged));
  f.appended(9, 101);
  f.truncated(10); // never below the checkpoint's last batch
  BOOST_TEST(f.last() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_replica_log_test
