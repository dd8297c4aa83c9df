// The event-log writer through its message protocol, on CAF's deterministic
// scheduler: appends acknowledged once durable and counted, appends waiting
// together written as one batch, batches written while earlier ones wait
// for their sync and acknowledged by the one sync that covers them; a
// failed write never acknowledged, every later append refused, with
// Nexus's own error code and the log's reason.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/errors.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "runtime/meters.hpp"
#include "tests/actors/deterministic_system.hpp"
#include "storage/event_log.hpp"
#include "tests/temp_dir.hpp"

namespace actors_event_log_writer_test {

using namespace nexus;

namespace {

storage::append_request append(const std::string& cid, std::uint64_t seq) {
  storage::event e;
  e.seq = seq;
  e.ts_us = 1000;
  e.cid = cid;
  e.type = seq == 1 ? storage::event_type::saga_started : storage::event_type::saga_completed;
  e.saga = "s";
  storage::append_request req;
  req.cid = cid;
  req.events.emplace_back(seq, std::string{});
  storage::encode_event(e, req.events.back().second);
  return req;
}

std::unique_ptr<storage::event_log> open_log(const std::string& dir, bool read_only) {
  std::string err;
  auto log = storage::event_log::open(read_only ? storage::log_options::reader(dir)
                                                : storage::log_options::writer(
                                                    dir, config::durability::sync),
                                      err);
  BOOST_REQUIRE_MESSAGE(log, err);
  return log;
}

/// What the client saw.
struct seen {
  std::vector<std::string> answers; ///< "ack", or the error's text.
  std::vector<caf::error> errors;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> stats;
};

/// Appends as sagas do (requests answered in order) and asks for counts.
caf::behavior client(caf::event_based_actor* self, actors::log_writer writer,
                     std::shared_ptr<seen> s) {
  return {
    [=](storage::append_request& req) {
      self->request(writer, caf::infinite, append_atom::value, std::move(req))
        .then([=](ack_atom) { s->answers.emplace_back("ack"); },
              [=](caf::error& err) {
                s->answers.push_back(actors::describe(err));
                s->errors.push_back(std::move(err));
              });
    },
    [=](stats_atom) {
      self->request(writer, caf::infinite, stats_atom::value)
        .then([=](std::uint64_t events, std::uint64_t batches) { s->stats.emplace(events, batches); });
    },
  };
}

/// The writer and a client on CAF's deterministic scheduler.
struct writer_world : test::deterministic_system {
  actors::log_writer writer;
  caf::actor probe;
  std::shared_ptr<seen> got = std::make_shared<seen>();

  explicit writer_world(storage::event_log& log, runtime::log_meters* meters = nullptr) {
    writer = actors::spawn_event_log_writer(*sys, log, 16, actors::placement::scheduler, meters);
    probe = sys->spawn(client, writer, got);
    sched->run();
  }

  ~writer_world() { stop(writer, probe); }

  std::pair<std::uint64_t, std::uint64_t> stats() {
    caf::anon_send(probe, stats_atom::value);
    sched->run();
    BOOST_REQUIRE(got->stats);
    return *got->stats;
  }
};

std::vector<std::uint64_t> seqs_of(storage::event_log& log, const std::string& cid) {
  std::vector<std::uint64_t> seqs;
  BOOST_REQUIRE(log.read_events(cid, 1, UINT64_MAX, [&](const storage::event& e) {
    seqs.push_back(e.seq);
    return true;
  }));
  return seqs;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_log_writer)

BOOST_AUTO_TEST_CASE(appends_are_acknowledged_once_durable_and_counted) {
  test::temp_dir dir;
  auto log = open_log(dir.path(), false);
  writer_world w{*log};
  for (std::uint64_t seq : {1, 2}) {
    caf::anon_send(w.probe, append("w-1", seq));
    w.sched->run(); // each answered before the next is sent
  }
  BOOST_TEST(w.got->answers == (std::vector<std::string>{"ack", "ack"}));
  BOOST_TEST(seqs_of(*log, "w-1") == (std::vector<std::uint64_t>{1, 2}));
  auto [events, batches] = w.stats();
  BOOST_TEST(events == 2u);
  BOOST_TEST(batches == 2u); // each waited for its answer: one write each
}

BOOST_AUTO_TEST_CASE(appends_waiting_together_are_written_in_one_batch_and_all_acknowledged) {
  test::temp_dir dir;
  auto log = open_log(dir.path(), false);
  writer_world w{*log};
  for (int i = 0; i < 20; ++i)
    caf::anon_send(w.probe, append("g-" + std::to_string(i), 1));
  // The client's 20 requests reach the writer's mailbox before it runs.
  w.sched->run_once(); // the client sends all 20
  BOOST_TEST(w.got->answers.empty());
  w.sched->run();
  BOOST_TEST(w.got->answers.size() == 20u);
  auto [events, batches] = w.stats();
  BOOST_TEST(events == 20u);
  BOOST_TEST(batches == 2u); // 16 a batch at most: 16, then 4
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(seqs_of(*log, "g-" + std::to_string(i)).size() == 1u);
}

BOOST_AUTO_TEST_CASE(batches_are_written_while_earlier_ones_wait_for_their_sync_and_one_sync_acknowledges_them_all) {
  test::temp_dir dir;
  auto log = open_log(dir.path(), false);
  runtime::log_meters meters;
  writer_world w{*log, &meters};
  for (int i = 0; i < 20; ++i)
    caf::anon_send(w.probe, append("p-" + std::to_string(i), 1));
  while (w.sched->prioritize(w.probe)) // the client sends all 20
    w.sched->run_once();
  // Only the writer runs: it writes both batches (16, then 4) with no sync
  // between them, and acknowledges nothing itself.
  while (w.sched->prioritize(w.writer))
    w.sched->run_once();
  BOOST_TEST(meters.write_us.count() == 2u);
  BOOST_TEST(meters.sync_us.count() == 0u);
  BOOST_TEST(w.got->answers.empty());
  for (int i = 0; i < 20; ++i) // written, though not yet synced
    BOOST_TEST(seqs_of(*log, "p-" + std::to_string(i)).size() == 1u);
  // The syncer takes both batches' acknowledgements before it syncs once.
  w.sched->run();
  BOOST_TEST(meters.sync_us.count() == 1u);
  BOOST_TEST(w.got->answers == std::vector<std::string>(20, "ack"));
}

BOOST_AUTO_TEST_CASE(a_failed_write_is_never_acknowledged_and_later_appends_are_refused) {
  test::temp_dir dir;
  open_log(dir.path(), false).reset(); // the log exists; then opened read-only, it refuses writes
  auto log = open_log(dir.path(), true);
  writer_world w{*log};
  for (std::uint64_t seq : {1, 2}) {
    caf::anon_send(w.probe, append("w-2", seq));
    w.sched->run();
  }
  BOOST_REQUIRE_EQUAL(w.got->errors.size(), 2u);
  BOOST_TEST(std::count(w.got->answers.begin(), w.got->answers.end(), "ack") == 0);
  for (auto& err : w.got->errors) {
    BOOST_TEST((err == actors::errc::log_write_failed));
    BOOST_TEST(!actors::describe(err).empty());
    BOOST_TEST(w.sys->render(err).find("log_write_failed: " + actors::describe(err))
               != std::string::npos, w.sys->render(err));
  }
  // the first reason, kept
  BOOST_TEST(actors::describe(w.got->errors[1]) == actors::describe(w.got->errors[0]));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_event_log_writer_test
