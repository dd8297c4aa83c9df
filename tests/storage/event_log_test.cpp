#include <boost/test/unit_test.hpp>

#include "storage/event_log.hpp"
#include "storage/keys.hpp"
#include "tests/storage/log_requests.hpp"
#include "tests/temp_dir.hpp"

namespace storage_event_log_test {

using namespace nexus::storage;
using nexus::test::open_log;
using nexus::test::request;

namespace {

std::vector<std::uint64_t> seqs_of(const event_log& log, const std::string& cid,
                                   std::uint64_t from = 1, std::uint64_t to = UINT64_MAX) {
  std::vector<std::uint64_t> out;
  auto st = log.read_events(cid, from, to, [&](const event& e) {
    BOOST_TEST(e.cid == cid);
    out.push_back(e.seq);
    return true;
  });
  BOOST_TEST(st.is_ok(), st.message());
  return out;
}

/// The write-ahead log file of a closed log in `dir`.
std::string wal_file(const std::string& dir) {
  std::string wal;
  for (auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".log")
      wal = entry.path().string();
  BOOST_REQUIRE(!wal.empty());
  return wal;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_log_storage)

BOOST_AUTO_TEST_CASE(events_are_read_back_in_sequence_order) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("x", 1, 3);
  auto b = request("x", 4, 300);
  BOOST_REQUIRE(log->write({&a}).is_ok());
  BOOST_REQUIRE(log->write({&b}).is_ok());
  auto seqs = seqs_of(*log, "x");
  BOOST_REQUIRE_EQUAL(seqs.size(), 300u);
  for (std::uint64_t i = 0; i < seqs.size(); ++i)
    BOOST_TEST(seqs[i] == i + 1);
}

BOOST_AUTO_TEST_CASE(ids_that_prefix_each_other_never_see_each_others_events) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("a", 1, 2);
  auto ab = request("ab", 1, 5);
  auto b = request("b", 1, 1);
  BOOST_REQUIRE(log->write({&ab, &a, &b}).is_ok());
  BOOST_TEST(seqs_of(*log, "a").size() == 2u);
  BOOST_TEST(seqs_of(*log, "ab").size() == 5u);
  BOOST_TEST(seqs_of(*log, "").empty());
}

BOOST_AUTO_TEST_CASE(reads_honour_from_and_to_bounds) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("c", 1, 10);
  BOOST_REQUIRE(log->write({&a}).is_ok());
  BOOST_TEST(seqs_of(*log, "c", 3, 5) == (std::vector<std::uint64_t>{3, 4, 5}));
  BOOST_TEST(seqs_of(*log, "c", 9).size() == 2u);
}

BOOST_AUTO_TEST_CASE(saga_rows_follow_the_latest_write) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto first = request("s1", 1, 2);
  auto second = request("s1", 3, 4, "completed");
  auto other = request("s2", 1, 1);
  BOOST_REQUIRE(log->write({&first, &other}).is_ok());
  BOOST_REQUIRE(log->write({&second}).is_ok());
  status st = status::ok();
  auto row = log->find_saga("s1", st);
  BOOST_REQUIRE(row);
  BOOST_TEST((row->status == saga_status::completed));
  BOOST_TEST(row->last_seq == 4u);
  BOOST_TEST(!log->find_saga("nope", st));
  BOOST_TEST(st.is_ok());
  std::vector<std::string> cids;
  BOOST_REQUIRE(log->for_each_saga([&](std::string_view cid, const saga_row&) {
    cids.emplace_back(cid);
    return true;
  }).is_ok());
  BOOST_TEST(cids == (std::vector<std::string>{"s1", "s2"}));
}

BOOST_AUTO_TEST_CASE(the_global_order_follows_writes_across_sagas_and_batches) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a1 = request("a", 1, 2);
  auto b1 = request("b", 1, 1);
  auto a2 = request("a", 3, 3);
  BOOST_REQUIRE(log->write({&b1, &a1}).is_ok());
  BOOST_REQUIRE(log->write({&a2}).is_ok());
  std::vector<std::string> seen;
  BOOST_REQUIRE(log->read_in_order(1, [&](std::uint64_t pos, std::string_view json) {
    event e;
    std::string err;
    BOOST_REQUIRE(decode_event(json, e, err));
    seen.push_back(std::to_string(pos) + ":" + e.cid + "/" + std::to_string(e.seq));
    return true;
  }).is_ok());
  BOOST_TEST(seen == (std::vector<std::string>{"1:b/1", "1:a/1", "1:a/2", "2:a/3"}));
  std::vector<std::string> from_second;
  BOOST_REQUIRE(log->read_in_order(2, [&](std::uint64_t, std::string_view) {
    from_second.emplace_back();
    return true;
  }).is_ok());
  BOOST_TEST(from_second.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_global_order_read_for_one_saga_matches_its_key_not_its_text) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("a", 1, 2);
  auto other = request("ab", 1, 1);
  // Another saga whose input holds the text a filter on the JSON would match.
  event e;
  e.seq = 1;
  e.cid = "x";
  e.type = event_type::saga_started;
  e.saga = "s";
  e.input = R"({"parent":{"cid":"a"}})";
  append_request x;
  x.cid = "x";
  x.events.emplace_back(1, std::string{});
  encode_event(e, x.events.back().second);
  BOOST_REQUIRE(x.events.back().second.find(R"("cid":"a")") != std::string::npos);
  BOOST_REQUIRE(log->write({&x, &other, &a}).is_ok());
  std::vector<std::string> seen;
  BOOST_REQUIRE(log->read_in_order(
                      1,
                      [&](std::uint64_t, std::string_view json) {
                        event got;
                        std::string err;
                        BOOST_REQUIRE(decode_event(json, got, err));
                        seen.push_back(got.cid + "/" + std::to_string(got.seq));
                        return true;
                      },
                      "a")
                  .is_ok());
  BOOST_TEST(seen == (std::vector<std::string>{"a/1", "a/2"}));
}

BOOST_AUTO_TEST_CASE(an_append_without_a_row_keeps_the_row) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto start = request("r", 1, 2);
  auto step = request("r", 3, 6);
  step.row.reset();
  BOOST_REQUIRE(log->write({&start}).is_ok());
  BOOST_REQUIRE(log->write({&step}).is_ok());
  status st = status::ok();
  auto row = log->find_saga("r", st);
  BOOST_REQUIRE(row);
  BOOST_TEST(row->last_seq == 2u);
  std::uint64_t last = 0;
  BOOST_REQUIRE(log->read_events("r", 1, UINT64_MAX, [&](const nexus::storage::event& e) {
    last = e.seq;
    return true;
  }).is_ok());
  BOOST_TEST(last == 6u); // the events are there, the row is as of the start
}

BOOST_AUTO_TEST_CASE(events_survive_reopening) {
  nexus::test::temp_dir dir;
  {
    auto log = open_log(dir.path());
    auto a = request("k", 1, 4);
    BOOST_REQUIRE(log->write({&a}).is_ok());
  }
  auto log = open_log(dir.path());
  BOOST_TEST(seqs_of(*log, "k").size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_read_only_reader_opens_beside_the_writer) {
  nexus::test::temp_dir dir;
  auto writer = open_log(dir.path());
  auto a = request("r", 1, 3);
  BOOST_REQUIRE(writer->write({&a}).is_ok());
  auto reader = open_log(dir.path(), true);
  BOOST_TEST(seqs_of(*reader, "r").size() == 3u);
  BOOST_TEST(!reader->write({&a}).is_ok());
}

BOOST_AUTO_TEST_CASE(a_cursor_reads_one_saga_after_another_as_the_log_was_when_made) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  // IDs of which one is a prefix of another: a read must stop at its own.
  for (auto& [cid, n] : std::vector<std::pair<std::string, std::uint64_t>>{{"a", 3}, {"ab", 2}, {"b", 4}}) {
    auto req = request(cid, 1, n);
    BOOST_REQUIRE(log->write({&req}).is_ok());
  }
  auto cursor = log->cursor();
  auto later = request("a", 4, 5);
  BOOST_REQUIRE(log->write({&later}).is_ok());
  auto read = [&](const std::string& cid) {
    std::vector<std::uint64_t> seqs;
    auto st = cursor->read_events(cid, [&](const event& e) {
      BOOST_TEST(e.cid == cid);
      seqs.push_back(e.seq);
      return true;
    });
    BOOST_TEST(st.is_ok(), st.message());
    return seqs;
  };
  // In any order, and again: each saga's events, and only those.
  BOOST_TEST(read("b") == (std::vector<std::uint64_t>{1, 2, 3, 4}));
  BOOST_TEST(read("ab") == (std::vector<std::uint64_t>{1, 2}));
  BOOST_TEST(read("a") == (std::vector<std::uint64_t>{1, 2, 3})); // not what came after it
  BOOST_TEST(read("none").empty());
  BOOST_TEST(read("ab") == (std::vector<std::uint64_t>{1, 2}));
  BOOST_TEST(seqs_of(*log, "a") == (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_log_integrity)

BOOST_AUTO_TEST_CASE(a_second_writer_gets_an_in_use_error) {
  nexus::test::temp_dir dir;
  auto first = open_log(dir.path());
  std::string err;
  auto second = event_log::open(log_options::writer(dir.path(), nexus::config::durability::sync), err);
  BOOST_TEST(!second);
  BOOST_TEST(err.find("is in use by another process") != std::string::npos, err);
  BOOST_TEST(err.find(dir.path()) != std::string::npos, err);
}

BOOST_AUTO_TEST_CASE(a_damaged_write_ahead_log_stops_the_open_and_names_the_file) {
  nexus::test::temp_dir dir;
  {
    auto log = open_log(dir.path());
    for (int i = 0; i < 50; ++i) {
      auto req = request("c" + std::to_string(i), 1, 20);
      BOOST_REQUIRE(log->write({&req}).is_ok());
    }
  }
  auto wal = wal_file(dir.path());
  {
    std::fstream f{wal, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(wal) / 2));
    f.write("GARBAGE-GARBAGE-GARBAGE", 23);
  }
  std::string err;
  auto log = event_log::open(log_options::writer(dir.path(), nexus::config::durability::sync), err);
  BOOST_TEST(!log);
  BOOST_TEST(err.find("is corrupted") != std::string::npos, err);
  BOOST_TEST(err.find(std::filesystem::path{wal}.filename().string()) != std::string::npos, err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_log_retention)

BOOST_AUTO_TEST_CASE(retention_removes_events_of_old_finished_sagas_only) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto old_done = request("old-done", 1, 5, "completed");
  old_done.row->updated_us = 1000;
  auto old_running = request("old-running", 1, 3, "running");
  old_running.row->updated_us = 1000;
  auto new_done = request("new-done", 1, 4, "compensated");
  new_done.row->updated_us = 9000;
  BOOST_REQUIRE(log->write({&old_done, &old_running, &new_done}).is_ok());
  std::uint64_t expired = 0;
  BOOST_REQUIRE(log->expire(5000, expired).is_ok());
  BOOST_TEST(expired == 1u);
  BOOST_TEST(seqs_of(*log, "old-done").empty());
  BOOST_TEST(seqs_of(*log, "old-running").size() == 3u);
  BOOST_TEST(seqs_of(*log, "new-done").size() == 4u);
  BOOST_REQUIRE(log->expire(5000, expired).is_ok());
  BOOST_TEST(expired == 0u); // already done: nothing more to remove
}

// Akka persistence TCK: the highest sequence number survives deletion.
BOOST_AUTO_TEST_CASE(the_highest_sequence_number_is_kept_after_retention) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto done = request("gone", 1, 7, "completed");
  done.row->updated_us = 1;
  BOOST_REQUIRE(log->write({&done}).is_ok());
  std::uint64_t expired = 0;
  BOOST_REQUIRE(log->expire(2, expired).is_ok());
  status st = status::ok();
  auto row = log->find_saga("gone", st);
  BOOST_REQUIRE(row);
  BOOST_TEST(row->expired);
  BOOST_TEST(row->last_seq == 7u);
  BOOST_TEST((row->status == saga_status::completed));
}

BOOST_AUTO_TEST_CASE(retention_leaves_ids_that_share_a_prefix_alone) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("a", 1, 2, "completed");
  a.row->updated_us = 1;
  auto ab = request("ab", 1, 2, "completed");
  ab.row->updated_us = 100;
  auto a_dot = request("a.", 1, 2, "completed");
  a_dot.row->updated_us = 100;
  BOOST_REQUIRE(log->write({&a, &ab, &a_dot}).is_ok());
  std::uint64_t expired = 0;
  BOOST_REQUIRE(log->expire(50, expired).is_ok());
  BOOST_TEST(seqs_of(*log, "a").empty());
  BOOST_TEST(seqs_of(*log, "ab").size() == 2u);
  BOOST_TEST(seqs_of(*log, "a.").size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_order_index_skips_removed_events) {
  nexus::test::temp_dir dir;
  auto log = open_log(dir.path());
  auto a = request("first", 1, 2, "completed");
  a.row->updated_us = 1;
  auto b = request("second", 1, 3, "running");
  BOOST_REQUIRE(log->write({&a, &b}).is_ok());
  std::uint64_t expired = 0;
  BOOST_REQUIRE(log->expire(50, expired).is_ok());
  std::vector<std::uint64_t> positions;
  BOOST_REQUIRE(log->read_in_order(1, [&](std::uint64_t pos, std::string_view json) {
    BOOST_TEST(json.find("\"cid\":\"second\"") != std::string_view::npos);
    positions.push_back(pos);
    return true;
  }).is_ok());
  // both sagas were written in one batch: one position
  BOOST_TEST(positions == (std::vector<std::uint64_t>{1, 1, 1}));
  BOOST_TEST(log->next_position() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_log_journal)

// Akka persistence TCK: a write of several events is atomic. A crash that
// tears the last write leaves none of its events (and no row change), and
// everything written before it intact.
BOOST_AUTO_TEST_CASE(a_multi_event_write_torn_by_a_crash_leaves_nothing_of_itself) {
  nexus::test::temp_dir dir;
  {
    auto log = open_log(dir.path());
    auto first = request("x", 1, 5);
    BOOST_REQUIRE(log->write({&first}).is_ok());
    auto more_x = request("x", 6, 8);
    auto y = request("y", 1, 10);
    BOOST_REQUIRE(log->write({&more_x, &y}).is_ok());
  }
  auto wal = wal_file(dir.path());
  // Cut into the last record, as a crash in the middle of its write would.
  std::filesystem::resize_file(wal, std::filesystem::file_size(wal) - 40);
  auto log = open_log(dir.path());
  BOOST_TEST(seqs_of(*log, "x").size() == 5u);
  BOOST_TEST(seqs_of(*log, "y").empty());
  status st = status::ok();
  BOOST_TEST(log->find_saga("x", st)->last_seq == 5u);
  BOOST_TEST(!log->find_saga("y", st));
}

BOOST_AUTO_TEST_CASE(timers_are_set_and_cleared_with_the_events_and_read_in_due_order) {
  nexus::test::temp_dir dir;
  auto timers = [](const event_log& log, std::string_view after = {}) {
    std::vector<std::pair<std::int64_t, std::string>> out;
    auto st = log.for_each_timer(after, [&](std::int64_t wake, std::string_view cid, std::string_view) {
      out.emplace_back(wake, std::string{cid});
      return true;
    });
    BOOST_TEST(st.is_ok(), st.message());
    return out;
  };
  using list = std::vector<std::pair<std::int64_t, std::string>>;
  {
    auto log = open_log(dir.path());
    auto late = request("late", 1, 2);
    late.row->parked = true;
    late.row->wake_us = 9'000'000'000;
    late.timer_set = 9'000'000'000;
    auto soon = request("soon", 1, 2);
    soon.row->parked = true;
    soon.row->wake_us = 2'000'000'000;
    soon.timer_set = 2'000'000'000;
    auto forever = request("forever", 1, 2); // a wait for a signal alone: parked, no timer
    forever.row->parked = true;
    BOOST_REQUIRE(log->write({&late, &soon, &forever}).is_ok());
    BOOST_TEST((timers(*log) == list{{2'000'000'000, "soon"}, {9'000'000'000, "late"}}));
    // Woken, soon's next write takes it out of the index (and parks it again later).
    auto woken = request("soon", 3, 3);
    woken.timer_clear = 2'000'000'000;
    woken.timer_set = 12'000'000'000;
    BOOST_REQUIRE(log->write({&woken}).is_ok());
    BOOST_TEST((timers(*log) == list{{9'000'000'000, "late"}, {12'000'000'000, "soon"}}));
    std::string first;
    BOOST_REQUIRE(log->for_each_timer({}, [&](std::int64_t, std::string_view, std::string_view key) {
      first.assign(key);
      return false;
    }).is_ok());
    BOOST_TEST((timers(*log, first) == list{{12'000'000'000, "soon"}})); // after a cursor
  }
  auto log = open_log(dir.path(), true);
  status st = status::ok();
  auto row = log->find_saga("late", st);
  BOOST_REQUIRE(row);
  BOOST_TEST(row->parked);
  BOOST_TEST(row->wake_us == 9'000'000'000);
  row = log->find_saga("forever", st);
  BOOST_REQUIRE(row);
  BOOST_TEST(row->parked);
  BOOST_TEST(row->wake_us == 0);
  BOOST_TEST(!log->find_saga("soon", st)->parked); // its last row was written unparked
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace storage_event_log_test
