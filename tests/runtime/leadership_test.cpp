// Campaigning for leadership in etcd, on a clock the test moves (the etcd
// answers are given by hand): a lease first, a campaign at once, renewals
// each third of the lease; the loser follows and campaigns again each
// sixth; a leader that cannot renew steps down exactly when its lease may
// have lapsed, gives the lease up and starts over.
#include <boost/test/unit_test.hpp>

#include "runtime/leadership.hpp"

namespace runtime_leadership_test {

using namespace nexus::runtime;
using namespace std::chrono_literals;
using kind = leadership_request::kind;

namespace {

constexpr std::int64_t s = 1'000'000; // a second, in microseconds

etcd_campaign won(std::int64_t revision, std::int64_t lease, std::string value) {
  return {true, {std::move(value), revision, revision, lease}};
}

etcd_campaign held_by(std::int64_t revision, std::int64_t lease, std::string value) {
  return {false, {std::move(value), revision, revision, lease}};
}

/// A node with lease 7 granted at 0 (lease 3 s, margin 0.2 s, retry 0.5 s).
leadership granted_node() {
  leadership l{3000ms, 200ms, 500ms};
  auto r = l.next(0);
  BOOST_TEST((r.what == kind::grant));
  l.granted(0, 7);
  return l;
}

} // namespace

BOOST_AUTO_TEST_SUITE(leadership_campaign)

BOOST_AUTO_TEST_CASE(a_first_node_takes_a_lease_wins_at_once_and_leads_on_its_renewals) {
  auto l = granted_node();
  BOOST_TEST((l.role() == leadership_role::candidate));
  auto r = l.next(10);
  BOOST_TEST((r.what == kind::campaign));
  BOOST_TEST(r.lease == 7);
  l.campaigned(10, won(42, 7, "node-a"));
  BOOST_TEST((l.role() == leadership_role::leader));
  BOOST_TEST(l.epoch() == 42);
  BOOST_TEST(l.leader_value() == "node-a");
  BOOST_TEST(l.may_acknowledge(2'799'999)); // granted at 0: 3 s less the margin
  BOOST_TEST(!l.may_acknowledge(2'800'000));
  // Nothing until the renewal, a third of the lease after the grant.
  r = l.next(20);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 1 * s);
  r = l.next(1 * s);
  BOOST_TEST((r.what == kind::renew));
  l.renewed(1 * s, 3);
  BOOST_TEST(l.may_acknowledge(3'799'999));
  BOOST_TEST(!l.may_acknowledge(3'800'000));
  BOOST_TEST(l.next(1 * s + 1).at_us == 2 * s);
}

BOOST_AUTO_TEST_CASE(a_later_node_follows_campaigns_each_sixth_and_takes_over_when_the_key_goes) {
  auto l = granted_node();
  l.next(0);
  l.campaigned(0, held_by(42, 99, "node-a"));
  BOOST_TEST((l.role() == leadership_role::follower));
  BOOST_TEST(l.epoch() == 42);
  BOOST_TEST(l.leader_value() == "node-a");
  BOOST_TEST(!l.may_acknowledge(1));
  auto r = l.next(1);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 500'000); // its next campaign: a sixth of the lease on
  r = l.next(500'000);
  BOOST_TEST((r.what == kind::campaign));
  l.campaigned(500'000, held_by(42, 99, "node-a"));
  r = l.next(500'001);
  BOOST_TEST(r.at_us == 1 * s); // its renewal, a third on, comes with the next campaign
  BOOST_TEST((l.next(1 * s).what == kind::renew)); // its own lease first
  l.renewed(1 * s, 3);
  BOOST_TEST((l.next(1 * s).what == kind::campaign));
  l.campaigned(1 * s, held_by(42, 99, "node-a"));
  BOOST_TEST((l.next(1 * s).what == kind::wait));
  // The leader's key is gone (its lease lapsed): the next campaign wins, a later epoch.
  BOOST_TEST((l.next(1'500'000).what == kind::campaign));
  l.campaigned(1'500'000, won(57, 7, "node-b"));
  BOOST_TEST((l.role() == leadership_role::leader));
  BOOST_TEST(l.epoch() == 57);
  BOOST_TEST(l.may_acknowledge(1'500'000));
}

BOOST_AUTO_TEST_CASE(a_leader_that_cannot_renew_steps_down_exactly_when_its_lease_may_lapse) {
  auto l = granted_node();
  l.next(0);
  l.campaigned(0, won(42, 7, "node-a"));
  // etcd answers nothing from now on: renewals are retried every 0.5 s.
  BOOST_TEST((l.next(1 * s).what == kind::renew));
  l.renewed(1 * s, std::nullopt);
  auto r = l.next(1 * s);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 1'500'000);
  for (std::int64_t t = 1'500'000; t < 2'800'000; t += 500'000) {
    BOOST_TEST((l.next(t).what == kind::renew));
    l.renewed(t, std::nullopt);
  }
  // Renewals are due every half second, but it must look at 2.8 s at the latest.
  r = l.next(2'700'000);
  BOOST_TEST(r.at_us <= 2'800'000);
  BOOST_TEST(l.may_acknowledge(2'799'999));
  BOOST_TEST((l.role() == leadership_role::leader));
  r = l.next(2'800'000);
  BOOST_TEST(!l.may_acknowledge(2'800'000));
  BOOST_TEST((l.role() == leadership_role::candidate));
  BOOST_TEST(l.epoch() == 0);
  BOOST_TEST((r.what == kind::revoke)); // its key goes at once, where etcd answers
  BOOST_TEST(r.lease == 7);
  l.revoked(2'900'000);
  BOOST_TEST((l.next(2'900'000).what == kind::grant)); // and it starts over
  // A late answer about the old lease changes nothing.
  l.renewed(2'500'000, 3);
  BOOST_TEST(!l.may_acknowledge(2'900'001));
  l.granted(2'900'000, 8);
  BOOST_TEST((l.next(2'900'000).what == kind::campaign));
  BOOST_TEST(l.next(2'900'000).lease == 8);
}

BOOST_AUTO_TEST_CASE(a_lease_found_gone_ends_leadership_at_once_and_a_new_one_is_asked_for) {
  auto l = granted_node();
  l.next(0);
  l.campaigned(0, won(42, 7, "node-a"));
  l.next(1 * s);
  l.renewed(1 * s, 0); // expired or revoked in etcd: its key is gone with it
  BOOST_TEST((l.role() == leadership_role::candidate));
  BOOST_TEST(!l.may_acknowledge(1 * s));
  BOOST_TEST((l.next(1 * s).what == kind::grant)); // nothing to revoke
}

BOOST_AUTO_TEST_CASE(requests_etcd_did_not_answer_are_made_again_after_the_retry_time) {
  leadership l{3000ms, 200ms, 500ms};
  l.next(0);
  l.granted(0, std::nullopt);
  auto r = l.next(1);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 500'000);
  BOOST_TEST((l.next(500'000).what == kind::grant));
  l.granted(500'000, 7);
  l.next(500'000);
  l.campaigned(500'000, std::nullopt);
  r = l.next(500'001);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 1'000'000);
  BOOST_TEST((l.next(1'000'000).what == kind::campaign));
}

BOOST_AUTO_TEST_CASE(a_key_found_held_by_its_own_lease_is_a_won_campaign_whose_answer_was_lost) {
  auto l = granted_node();
  l.next(0);
  l.campaigned(0, std::nullopt); // etcd created the key, the answer never came
  l.next(500'000);
  l.campaigned(500'000, held_by(42, 7, "node-a"));
  BOOST_TEST((l.role() == leadership_role::leader));
  BOOST_TEST(l.epoch() == 42);
}

BOOST_AUTO_TEST_CASE(a_leader_that_yields_steps_down_and_asks_for_no_lease_until_told) {
  auto l = granted_node();
  l.next(0);
  l.campaigned(0, won(42, 7, "node-a"));
  l.yield(100, 3'100'000);
  BOOST_TEST((l.role() == leadership_role::candidate));
  BOOST_TEST(!l.may_acknowledge(100));
  auto r = l.next(100);
  BOOST_TEST((r.what == kind::revoke)); // its key goes now: another wins at its next campaign
  BOOST_TEST(r.lease == 7);
  l.revoked(200);
  r = l.next(200);
  BOOST_TEST((r.what == kind::wait));
  BOOST_TEST(r.at_us == 3'100'000);
  BOOST_TEST((l.next(3'100'000).what == kind::grant));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_leadership_test
