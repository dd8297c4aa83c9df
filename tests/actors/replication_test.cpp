// Replication through its actors (actors/ha), on CAF's deterministic
// scheduler, with a clock the test moves: a leader's log, its writer and
// shipper, and replicas each with a log of its own in a temporary
// directory. An append is acknowledged only once min_replicas replicas hold
// its batch, and only while the lease holds; a replica that goes counts no
// more; one that is behind what the shipper keeps, or that holds batches a
// former leader wrote and no one acknowledged, is sent a checkpoint and
// then holds exactly the leader's log; a batch of an older epoch is refused.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/event_log_writer.hpp"
#include "actors/ha/replication.hpp"
#include "actors/messages.hpp"
#include "storage/event_log.hpp"
#include "tests/actors/deterministic_system.hpp"
#include "tests/storage/log_requests.hpp"
#include "tests/temp_dir.hpp"

namespace actors_replication_test {

using namespace nexus;
using test::contents;
using test::open_log;

namespace {

struct seen {
  std::vector<std::string> answers; ///< "ack", or the error's text.
};

caf::behavior client(caf::event_based_actor* self, actors::log_writer writer,
                     std::shared_ptr<seen> s) {
  return {
    [=](storage::append_request& req) {
      self->request(writer, caf::infinite, append_atom::value, std::move(req))
        .then([=](ack_atom) { s->answers.emplace_back("ack"); },
              [=](caf::error& err) { s->answers.push_back(to_string(err)); });
    },
  };
}

/// The logs first: they must outlive the actor system that writes to them.
struct leader_log {
  test::temp_dir dir;
  std::unique_ptr<storage::event_log> log = open_log(dir.path() + "/leader");
};

struct replication_world : leader_log, test::deterministic_system {
  static constexpr std::uint64_t epoch = 5;
  std::int64_t now_us = 1'000'000'000;
  caf::actor shipper;
  actors::log_writer writer;
  caf::actor probe;
  std::shared_ptr<seen> got = std::make_shared<seen>();
  std::map<std::string, caf::actor> replicas;
  std::vector<std::string> longer; ///< Replicas the shipper found with a longer log.

  /// `before`: the last batch the leader held when it began to lead (its
  /// log here starts empty; the shipper judges replicas' logs by this).
  explicit replication_world(std::uint32_t min_replicas, std::size_t ring_bytes = 64u << 20,
                             storage::replication_mark before = {}) {
    actors::shipper_setup setup;
    setup.log = log.get();
    setup.epoch = epoch;
    setup.min_replicas = min_replicas;
    setup.ring_bytes = ring_bytes;
    setup.checkpoint_dir = dir.path() + "/checkpoints";
    setup.chunk_bytes = 4096; // a checkpoint goes in many chunks
    setup.now_us = [this] { return now_us; };
    setup.before = before;
    setup.on_longer_log = [this](const std::string& node, std::uint64_t, std::uint64_t) {
      longer.push_back(node);
    };
    shipper = actors::spawn_shipper(*sys, std::move(setup), false);
    auto st = log->lead(epoch, [s = shipper](const storage::replicated_batch& b) {
      caf::anon_send(s, actors::ship_atom::value, b);
    });
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    writer = actors::spawn_event_log_writer(*sys, *log, 16, actors::placement::scheduler, nullptr,
                                            shipper);
    probe = sys->spawn(client, writer, got);
    lease(10'000'000);
  }

  ~replication_world() {
    for (auto& [name, r] : replicas)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    stop(writer, shipper, probe);
  }

  /// The leader may acknowledge for `us` from now.
  void lease(std::int64_t us) {
    caf::anon_send(shipper, actors::lease_atom::value, now_us + us);
    run();
  }

  std::string replica_dir(const std::string& name) { return dir.path() + "/" + name; }

  /// Replica `name`, with the log its directory holds, follows the leader.
  void follow(const std::string& name) {
    actors::replica_setup setup;
    setup.dir = replica_dir(name);
    setup.node = name;
    auto r = actors::spawn_replica(*sys, setup, open_log(setup.dir), false);
    replicas[name] = r;
    caf::anon_send(r, actors::follow_atom::value, shipper);
    run();
  }

  /// Replica `name` stops; its log is closed.
  void leave(const std::string& name) {
    caf::anon_send_exit(replicas.at(name), caf::exit_reason::user_shutdown);
    replicas.erase(name);
    run();
  }

  void append(const std::string& cid) {
    caf::anon_send(probe, test::request(cid, 1, 3));
    run();
  }

  /// What replica `name` holds, read once it has stopped.
  std::map<std::string, std::string> held_by(const std::string& name) {
    leave(name);
    return contents(*open_log(replica_dir(name)));
  }
};

std::vector<std::string> acks(std::size_t n) {
  return std::vector<std::string>(n, "ack");
}

} // namespace

BOOST_AUTO_TEST_SUITE(replication)

BOOST_AUTO_TEST_CASE(an_append_is_acknowledged_once_a_replica_holds_it) {
  replication_world w{1};
  w.append("x");
  BOOST_TEST(w.got->answers.empty()); // durable on the leader alone
  w.follow("b");
  BOOST_TEST(w.got->answers == acks(1));
  w.append("y");
  BOOST_TEST(w.got->answers == acks(2));
  BOOST_TEST(w.held_by("b") == contents(*w.log));
}

BOOST_AUTO_TEST_CASE(nothing_is_acknowledged_while_the_lease_may_have_expired) {
  replication_world w{1};
  w.follow("b");
  w.lease(-1); // a renewal failed: it may be someone else's now
  w.append("x");
  w.append("y");
  BOOST_TEST(w.got->answers.empty());
  w.lease(3'000'000); // renewed: what the replicas hold goes out
  BOOST_TEST(w.got->answers == acks(2));
}

BOOST_AUTO_TEST_CASE(with_two_replicas_asked_a_replica_that_goes_holds_back_the_acks) {
  replication_world w{2};
  w.follow("b");
  w.follow("c");
  w.append("x");
  BOOST_TEST(w.got->answers == acks(1));
  w.leave("c");
  w.append("y");
  BOOST_TEST(w.got->answers == acks(1)); // b alone holds y
  w.follow("c"); // back, from its mark
  BOOST_TEST(w.got->answers == acks(2));
  BOOST_TEST(w.held_by("c") == contents(*w.log));
}

BOOST_AUTO_TEST_CASE(a_replica_behind_what_the_shipper_keeps_catches_up_from_a_checkpoint) {
  replication_world w{1, 1}; // the shipper keeps only the latest batch
  for (int i = 0; i < 5; ++i)
    w.append("s-" + std::to_string(i));
  BOOST_TEST(w.got->answers.empty());
  w.follow("c"); // an empty log: batch 1 is long gone from the shipper
  BOOST_TEST(w.got->answers == acks(5));
  w.append("after");
  BOOST_TEST(w.got->answers == acks(6));
  BOOST_TEST(w.held_by("c") == contents(*w.log));
  BOOST_TEST(!std::filesystem::exists(storage::event_log::incoming_dir(w.replica_dir("c"))));
}

BOOST_AUTO_TEST_CASE(a_checkpoint_cut_short_leaves_nothing_the_next_one_would_be_appended_to) {
  replication_world w{1, 1}; // the shipper keeps only the latest batch: c needs a checkpoint
  for (int i = 0; i < 5; ++i)
    w.append("s-" + std::to_string(i));
  actors::replica_setup setup;
  setup.dir = w.replica_dir("c");
  setup.node = "c";
  auto r = actors::spawn_replica(*w.sys, setup, open_log(setup.dir), false);
  w.run();
  // What a transfer from a leader that went mid-way left in the copy.
  auto incoming = storage::event_log::incoming_dir(setup.dir);
  std::filesystem::create_directories(incoming);
  std::ofstream{incoming + "/CURRENT"} << "MANIFEST-000999\n";
  w.replicas["c"] = r;
  caf::anon_send(r, actors::follow_atom::value, w.shipper);
  w.run();
  BOOST_TEST(w.got->answers == acks(5));
  BOOST_TEST(w.held_by("c") == contents(*w.log));
}

BOOST_AUTO_TEST_CASE(a_former_leader_loses_what_it_wrote_that_no_one_acknowledged) {
  // The leader held batch 2 of epoch 4 when it began: c's epoch 3 is older.
  replication_world w{1, 64u << 20, {4, 2}};
  {
    // c led epoch 3 and wrote a saga no replica ever had.
    auto old = open_log(w.replica_dir("c"));
    BOOST_REQUIRE(old->lead(3, [](const storage::replicated_batch&) {}).is_ok());
    auto stale = test::request("never-acknowledged", 1, 4);
    BOOST_REQUIRE(old->write({&stale}).is_ok());
  }
  w.append("x");
  w.follow("c");
  BOOST_TEST(w.got->answers == acks(1));
  auto held = w.held_by("c");
  BOOST_TEST(held.count("row never-acknowledged") == 0u);
  BOOST_TEST(held == contents(*w.log));
}

BOOST_AUTO_TEST_CASE(a_replica_with_a_longer_log_than_the_leader_began_with_is_sent_nothing_and_named) {
  // The leader began with batch 1 of epoch 3; c holds batch 2 of epoch 3,
  // which its former leader may have had acknowledged.
  replication_world w{1, 64u << 20, {3, 1}};
  {
    auto old = open_log(w.replica_dir("c"));
    BOOST_REQUIRE(old->lead(3, [](const storage::replicated_batch&) {}).is_ok());
    auto maybe_acknowledged = test::request("maybe-acknowledged", 1, 4);
    BOOST_REQUIRE(old->write({&maybe_acknowledged}).is_ok());
  }
  auto before = contents(*open_log(w.replica_dir("c")));
  w.append("x");
  w.follow("c");
  BOOST_TEST(w.longer == std::vector<std::string>{"c"});
  BOOST_TEST(w.got->answers.empty()); // c counts as no replica: nothing acknowledged
  auto held = w.held_by("c");
  BOOST_TEST(held == before); // no checkpoint took its batches away
  BOOST_TEST(held.count("row maybe-acknowledged") == 1u);
}

BOOST_AUTO_TEST_CASE(a_replica_refuses_a_batch_of_an_older_epoch) {
  replication_world w{1};
  w.follow("b");
  w.append("x");
  // A leader of epoch 4 that has not heard it was replaced.
  test::temp_dir other;
  auto old = open_log(other.path());
  std::vector<storage::replicated_batch> shipped;
  BOOST_REQUIRE(old->lead(4, [&](const storage::replicated_batch& b) { shipped.push_back(b); })
                  .is_ok());
  auto stale = test::request("stale", 1, 2);
  BOOST_REQUIRE(old->write({&stale}).is_ok());
  auto late = shipped.back();
  late.position = 3; // what b would take next
  late.prev_epoch = 5;
  caf::anon_send(w.replicas.at("b"), actors::ship_atom::value, late);
  w.run();
  auto held = w.held_by("b");
  BOOST_TEST(held.count("row stale") == 0u);
  BOOST_TEST(held == contents(*w.log));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_replication_test
