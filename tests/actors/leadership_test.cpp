// Campaigning through the leadership actor, on CAF's deterministic
// scheduler, against an etcd kept in memory on the same test clock (leases
// that lapse, a key created by the first campaign only, revisions as
// epochs): one of two nodes leads and the other follows it; a leader cut
// off from etcd steps down before its lease can lapse there, and the other
// takes over only after that, within a sixth of a lease, in a later epoch;
// a leader that exits gives its lease up and the other takes over at its
// next campaign.
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "actors/ha/leadership.hpp"
#include "actors/ha/node.hpp"
#include "tests/actors/deterministic_system.hpp"

namespace actors_leadership_test {

using namespace nexus;
using namespace std::chrono_literals;
using runtime::leadership_role;

namespace {

/// One etcd: leases that lapse on the test clock, one leader key.
struct memory_etcd {
  std::function<std::int64_t()> now_us;
  std::int64_t next_lease = 100;
  std::int64_t revision = 1;
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> leases; ///< id -> (ttl s, lapses at)
  std::optional<runtime::etcd_key_value> key;

  void lapse() {
    auto now = now_us();
    for (auto i = leases.begin(); i != leases.end();)
      i = i->second.second <= now ? leases.erase(i) : std::next(i);
    if (key && leases.count(key->lease) == 0) {
      key.reset();
      ++revision;
    }
  }
};

/// A node's way to that etcd, which the test can cut.
struct memory_client : runtime::etcd_leases {
  std::shared_ptr<memory_etcd> etcd;
  std::shared_ptr<bool> reachable = std::make_shared<bool>(true);

  bool cut(std::string& error) {
    if (*reachable)
      return false;
    error = "no etcd endpoint answered";
    return true;
  }
  std::optional<std::int64_t> grant(std::chrono::seconds ttl, std::string& error) override {
    if (cut(error))
      return std::nullopt;
    etcd->lapse();
    auto id = etcd->next_lease++;
    etcd->leases[id] = {ttl.count(), etcd->now_us() + ttl.count() * 1'000'000};
    return id;
  }
  std::optional<std::int64_t> keep_alive(std::int64_t lease, std::string& error) override {
    if (cut(error))
      return std::nullopt;
    etcd->lapse();
    auto i = etcd->leases.find(lease);
    if (i == etcd->leases.end())
      return 0;
    i->second.second = etcd->now_us() + i->second.first * 1'000'000;
    return i->second.first;
  }
  bool revoke(std::int64_t lease, std::string& error) override {
    if (cut(error))
      return false;
    etcd->leases.erase(lease);
    etcd->lapse();
    return true;
  }
  std::optional<runtime::etcd_campaign> campaign(const std::string&, const std::string& value,
                                                 std::int64_t lease, std::string& error) override {
    if (cut(error))
      return std::nullopt;
    etcd->lapse();
    if (etcd->leases.count(lease) == 0) {
      error = "etcdserver: requested lease not found";
      return std::nullopt;
    }
    if (etcd->key)
      return runtime::etcd_campaign{false, *etcd->key};
    ++etcd->revision;
    etcd->key = runtime::etcd_key_value{value, etcd->revision, etcd->revision, lease};
    return runtime::etcd_campaign{true, *etcd->key};
  }
};

/// What a node's owner was told, with when (test clock, µs).
struct told {
  std::vector<std::pair<std::int64_t, actors::leadership_view>> views;
  const actors::leadership_view& last() const { return views.back().second; }
};

struct leadership_world;
caf::behavior recorder(caf::event_based_actor*, leadership_world* w, std::shared_ptr<told> log);

struct leadership_world : test::deterministic_system {
  std::shared_ptr<memory_etcd> etcd = std::make_shared<memory_etcd>();
  std::map<std::string, std::shared_ptr<memory_client>> clients;
  std::map<std::string, std::shared_ptr<told>> seen;
  std::map<std::string, caf::actor> nodes;

  leadership_world() { etcd->now_us = [this] { return now(); }; }
  ~leadership_world() {
    for (auto& [name, node] : nodes)
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    run();
  }

  std::int64_t now() { return actors::actor_clock_us(*sys); }

  void start(const std::string& name) {
    auto client = std::make_shared<memory_client>();
    client->etcd = etcd;
    clients[name] = client;
    auto log = std::make_shared<told>();
    seen[name] = log;
    auto owner = sys->spawn(recorder, this, log);
    actors::leadership_setup setup;
    setup.key = "/nexus/c/leader";
    setup.value = name;
    setup.lease = 3000ms;
    setup.margin = 300ms;
    setup.retry = 250ms;
    setup.etcd = client;
    setup.owner = owner;
    nodes[name] = actors::spawn_leadership(*sys, setup, false);
    run();
  }

  const actors::leadership_view& view(const std::string& name) { return seen[name]->last(); }

  /// Moves time on in steps of 50 ms until `done` or `limit` passed: the time it took.
  template <class Done>
  std::int64_t advance_until(Done done, caf::timespan limit) {
    auto from = now();
    while (!done() && now() - from < std::chrono::duration_cast<std::chrono::microseconds>(limit).count())
      advance(50ms);
    BOOST_REQUIRE(done());
    return now() - from;
  }
};

/// The owner: what it was told, with when. Spawned with arguments: CAF
/// 0.17 spawns a function of none through a null tuple (UBSan flags it).
caf::behavior recorder(caf::event_based_actor*, leadership_world* w, std::shared_ptr<told> log) {
  return {[w, log](actors::leadership_atom, actors::leadership_view v) {
    log->views.emplace_back(w->now(), std::move(v));
  }};
}

} // namespace

BOOST_AUTO_TEST_SUITE(leadership)

BOOST_AUTO_TEST_CASE(one_node_leads_the_other_follows_it_and_the_leader_renews_its_term) {
  leadership_world w;
  w.start("a");
  w.start("b");
  BOOST_TEST((w.view("a").role == leadership_role::leader));
  BOOST_TEST((w.view("b").role == leadership_role::follower));
  BOOST_TEST(w.view("b").leader == "a");
  BOOST_TEST(w.view("b").epoch == w.view("a").epoch);
  BOOST_TEST(w.view("a").epoch > 0);
  auto until = w.view("a").valid_until_us;
  BOOST_TEST(until > w.now());
  w.advance(1100ms); // past a third of the lease: renewed
  BOOST_TEST(w.view("a").valid_until_us >= until + 1'000'000);
  BOOST_TEST((w.view("a").role == leadership_role::leader));
  BOOST_TEST((w.view("b").role == leadership_role::follower));
}

BOOST_AUTO_TEST_CASE(a_leader_cut_off_steps_down_before_its_lease_lapses_and_the_other_takes_over_after) {
  leadership_world w;
  w.start("a");
  w.start("b");
  auto epoch_a = w.view("a").epoch;
  *w.clients["a"]->reachable = false;
  auto cut_at = w.now();
  w.advance_until([&] { return w.view("a").role != leadership_role::leader; }, 10s);
  auto stepped_down_at = w.seen["a"]->views.back().first;
  // It stopped within its term (at most a lease less the margin after its
  // last renewal) and before etcd let the key go.
  BOOST_TEST(stepped_down_at - cut_at <= 3'000'000 - 300'000 + 50'000);
  BOOST_TEST((w.view("b").role == leadership_role::follower));
  w.advance_until([&] { return w.view("b").role == leadership_role::leader; }, 10s);
  auto took_over_at = w.seen["b"]->views.back().first;
  BOOST_TEST(took_over_at > stepped_down_at);
  BOOST_TEST(w.view("b").epoch > epoch_a);
  // From the cut to a new leader: the lease, and at most a sixth of it more.
  BOOST_TEST(took_over_at - cut_at <= 3'000'000 + 500'000 + 100'000);
  // Never two leaders at once, as their owners were told.
  for (auto& [at, v] : w.seen["b"]->views)
    if (v.role == leadership_role::leader)
      BOOST_TEST(at > stepped_down_at);
  // Back in touch, the former leader follows the new one.
  *w.clients["a"]->reachable = true;
  w.advance_until([&] { return w.view("a").role == leadership_role::follower; }, 10s);
  BOOST_TEST(w.view("a").leader == "b");
  BOOST_TEST(w.view("a").epoch == w.view("b").epoch);
}

BOOST_AUTO_TEST_CASE(a_leader_that_exits_gives_its_lease_up_and_the_other_takes_over_at_its_next_campaign) {
  leadership_world w;
  w.start("a");
  w.start("b");
  caf::anon_send_exit(w.nodes["a"], caf::exit_reason::user_shutdown);
  w.nodes.erase("a");
  w.run();
  BOOST_TEST(!w.etcd->key.has_value()); // the key went with the lease
  auto took = w.advance_until([&] { return w.view("b").role == leadership_role::leader; }, 5s);
  BOOST_TEST(took <= 500'000 + 50'000); // a sixth of the lease at most
}

BOOST_AUTO_TEST_CASE(a_leaders_address_round_trips_and_a_malformed_one_is_none) {
  actors::coordinator_address a{"c1", "127.0.0.1:7700", "127.0.0.1:7701"};
  auto back = actors::coordinator_address::from_json(a.to_json());
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->node == "c1");
  BOOST_TEST(back->listen == "127.0.0.1:7700");
  BOOST_TEST(back->http == "127.0.0.1:7701");
  for (const char* bad : {R"({"node":"c1","listen":"127.0.0.1","http":""})",
                          R"({"node":"c1","listen":"127.0.0.1:port","http":""})",
                          R"({"node":"c1","listen":"127.0.0.1:70000","http":""})",
                          R"({"node":"c1","listen":":7700","http":""})",
                          R"({"node":"c1","http":""})", R"(["c1"])", "not json"})
    BOOST_TEST(!actors::coordinator_address::from_json(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_leadership_test
