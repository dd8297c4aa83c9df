// The event log's side of replication (docs/ha.md): a leading log stamps
// each write with its place and ships it, in order, whatever wrote it; a
// follower that applies what was shipped holds the same log, mark
// included, after a restart too; batches out of place are refused and
// change nothing; a checkpoint opens as the log it was taken of.
#include <filesystem>
#include <fstream>

#include <boost/test/unit_test.hpp>

#include "storage/event_log.hpp"
#include "tests/storage/log_requests.hpp"
#include "tests/temp_dir.hpp"

namespace storage_event_log_replication_test {

using namespace nexus::storage;
using nexus::test::contents;
using nexus::test::open_log;
using nexus::test::request;

namespace {

stored_definition definition(const std::string& hash) {
  return {hash, "s", 1, R"({"steps": [)" + hash + "]}"};
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_log_replication)

BOOST_AUTO_TEST_CASE(a_leading_log_ships_every_write_in_order_and_a_follower_holds_the_same) {
  nexus::test::temp_dir a, b;
  auto leader = open_log(a.path());
  auto follower = open_log(b.path());
  std::vector<replicated_batch> shipped;
  BOOST_REQUIRE(leader->lead(7, [&](const replicated_batch& x) { shipped.push_back(x); }).is_ok());
  BOOST_REQUIRE(leader->store_definition(definition("1")).is_ok());
  auto first = request("x", 1, 3);
  auto ended = request("y", 1, 2, "completed");
  BOOST_REQUIRE(leader->write({&first, &ended}).is_ok());
  std::uint64_t expired = 0;
  BOOST_REQUIRE(leader->expire(INT64_MAX, expired).is_ok()); // y ended: its events go
  BOOST_TEST(expired == 1u);
  BOOST_REQUIRE_EQUAL(shipped.size(), 4u); // the epoch's first batch, then the three writes
  for (std::uint64_t i = 0; i < shipped.size(); ++i) {
    BOOST_TEST(shipped[i].epoch == 7u);
    BOOST_TEST(shipped[i].position == i + 1);
    BOOST_TEST(shipped[i].prev_epoch == (i == 0 ? 0u : 7u));
    BOOST_REQUIRE(follower->apply(shipped[i]).is_ok());
  }
  BOOST_TEST(leader->replication().position == 4u);
  BOOST_TEST(follower->replication().position == 4u);
  BOOST_TEST(follower->replication().epoch == 7u);
  auto held = contents(*leader);
  BOOST_TEST(held.count("row y") == 1u);
  BOOST_TEST(held.count("event y") == 0u); // expired on the leader, so on the follower
  BOOST_TEST(contents(*follower) == held);
  // The mark is in the log: it survives a restart of either.
  follower.reset();
  follower = open_log(b.path());
  BOOST_TEST(follower->replication().position == 4u);
  BOOST_TEST(follower->replication().epoch == 7u);
}

BOOST_AUTO_TEST_CASE(a_batch_out_of_place_is_refused_and_changes_nothing) {
  nexus::test::temp_dir a, b;
  auto leader = open_log(a.path());
  auto follower = open_log(b.path());
  std::vector<replicated_batch> shipped;
  BOOST_REQUIRE(leader->lead(3, [&](const replicated_batch& x) { shipped.push_back(x); }).is_ok());
  for (int i = 1; i <= 3; ++i) {
    auto req = request("s-" + std::to_string(i), 1, 2);
    BOOST_REQUIRE(leader->write({&req}).is_ok());
  }
  BOOST_REQUIRE(follower->apply(shipped[0]).is_ok());
  BOOST_REQUIRE(follower->apply(shipped[1]).is_ok());
  auto before = contents(*follower);
  auto gap = follower->apply(shipped[3]);
  BOOST_TEST(!gap.is_ok());
  BOOST_TEST(gap.message().find("batch 4 of epoch 3 does not follow batch 2") != std::string::npos,
             gap.message());
  BOOST_TEST(!follower->apply(shipped[1]).is_ok()); // held already
  BOOST_TEST(contents(*follower) == before);
  BOOST_TEST(follower->replication().position == 2u);
  // A leader takes no shipped batches, and an epoch only moves forward.
  BOOST_TEST(!leader->apply(shipped[1]).is_ok());
  auto old = follower->lead(2, [](const replicated_batch&) {});
  BOOST_TEST(old.message().find("epoch 2 is not newer than epoch 3") != std::string::npos,
             old.message());
}

BOOST_AUTO_TEST_CASE(a_follower_that_leads_goes_on_from_its_mark_and_the_global_order) {
  nexus::test::temp_dir a, b, c;
  auto leader = open_log(a.path());
  auto follower = open_log(b.path());
  auto next = open_log(c.path());
  std::vector<replicated_batch> shipped;
  BOOST_REQUIRE(leader->lead(4, [&](const replicated_batch& x) { shipped.push_back(x); }).is_ok());
  auto first = request("x", 1, 2);
  BOOST_REQUIRE(leader->write({&first}).is_ok());
  for (auto& batch : shipped) {
    BOOST_REQUIRE(follower->apply(batch).is_ok());
    BOOST_REQUIRE(next->apply(batch).is_ok());
  }
  // The leader is gone; the follower leads epoch 9 and ships to the other.
  BOOST_REQUIRE(follower->lead(9, [&](const replicated_batch& x) { shipped.push_back(x); }).is_ok());
  auto more = request("x", 3, 4);
  BOOST_REQUIRE(follower->write({&more}).is_ok());
  BOOST_REQUIRE_EQUAL(shipped.size(), 4u);
  BOOST_TEST(shipped[2].position == 3u); // epoch 9's first batch
  BOOST_TEST(shipped[2].epoch == 9u);
  BOOST_TEST(shipped[2].prev_epoch == 4u);
  BOOST_TEST(shipped[3].prev_epoch == 9u);
  BOOST_REQUIRE(next->apply(shipped[2]).is_ok());
  BOOST_REQUIRE(next->apply(shipped[3]).is_ok());
  auto held = contents(*follower);
  BOOST_TEST(held.at("order").find("2 ") != std::string::npos); // the order went on at 2
  BOOST_TEST(contents(*next) == held);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_opens_as_the_log_it_was_taken_of_and_takes_the_next_batch) {
  nexus::test::temp_dir a, b;
  auto leader = open_log(a.path());
  std::vector<replicated_batch> shipped;
  BOOST_REQUIRE(leader->lead(5, [&](const replicated_batch& x) { shipped.push_back(x); }).is_ok());
  for (int i = 1; i <= 20; ++i) {
    auto req = request("c-" + std::to_string(i), 1, 3);
    BOOST_REQUIRE(leader->write({&req}).is_ok());
  }
  auto dir = b.path() + "/checkpoint";
  replication_mark mark;
  auto st = leader->checkpoint(dir, mark);
  BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
  BOOST_TEST(mark.position == 21u); // the epoch's first batch and the twenty
  BOOST_TEST(mark.epoch == 5u);
  auto after = request("c-21", 1, 3);
  BOOST_REQUIRE(leader->write({&after}).is_ok());
  auto copy = open_log(dir);
  BOOST_TEST(copy->replication().position == 21u);
  BOOST_REQUIRE(copy->apply(shipped.back()).is_ok()); // batch 22, written after it
  BOOST_TEST(contents(*copy) == contents(*leader));
  replication_mark again;
  BOOST_TEST(!leader->checkpoint(dir, again).is_ok()); // the directory is there
}

BOOST_AUTO_TEST_CASE(an_installed_checkpoint_replaces_a_log_and_a_crash_midway_leaves_one_whole) {
  nexus::test::temp_dir a, b;
  auto leader = open_log(a.path());
  BOOST_REQUIRE(leader->lead(2, [](const replicated_batch&) {}).is_ok());
  auto ours = request("ours", 1, 2);
  BOOST_REQUIRE(leader->write({&ours}).is_ok());
  auto dir = b.path() + "/log";
  {
    auto stale = open_log(dir); // what a former leader wrote and no one acknowledged
    auto theirs = request("theirs", 1, 5);
    BOOST_REQUIRE(stale->write({&theirs}).is_ok());
  }
  // The node's log lines live beside its log: they are not the log's.
  std::filesystem::create_directories(dir + "/logs");
  std::ofstream{dir + "/logs/nexus.jsonl"} << "a line\n";
  replication_mark mark;
  BOOST_REQUIRE(leader->checkpoint(event_log::incoming_dir(dir), mark).is_ok());
  auto st = event_log::install(dir);
  BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
  BOOST_TEST(!std::filesystem::exists(event_log::incoming_dir(dir)));
  BOOST_TEST(contents(*open_log(dir)) == contents(*leader));
  BOOST_TEST(std::filesystem::file_size(dir + "/logs/nexus.jsonl") == 7u); // kept
  // A crash after the old log was moved aside, before the checkpoint took
  // its place: the next open puts the checkpoint there.
  auto more = request("more", 1, 2);
  BOOST_REQUIRE(leader->write({&more}).is_ok());
  BOOST_REQUIRE(leader->checkpoint(event_log::incoming_dir(dir), mark).is_ok());
  std::filesystem::rename(dir, dir + ".replaced");
  auto reopened = open_log(dir);
  BOOST_TEST(contents(*reopened) == contents(*leader));
  BOOST_TEST(reopened->replication().position == 3u); // first batch, ours, more
  BOOST_TEST(!std::filesystem::exists(dir + ".replaced"));
  BOOST_TEST(!event_log::install(dir + "-none").is_ok()); // nothing to install
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace storage_event_log_replication_test
