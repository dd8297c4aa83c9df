// The event-log writer through its message protocol: appends acknowledged once
// durable and counted; a failed write never acknowledged, every later append
// refused, with Nexus's own error code and the log's reason.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/errors.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/event_log.hpp"
#include "tests/temp_dir.hpp"

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

} // namespace

BOOST_AUTO_TEST_SUITE(event_log_writer)

BOOST_AUTO_TEST_CASE(appends_are_acknowledged_once_durable_and_counted) {
  test::temp_dir dir;
  auto log = open_log(dir.path(), false);
  {
    actors::system_config cfg{2};
    caf::actor_system sys{cfg};
    auto writer = actors::spawn_event_log_writer(sys, *log, 16);
    caf::scoped_actor self{sys};
    int acks = 0;
    for (std::uint64_t seq : {1, 2})
      self->request(writer, caf::infinite, append_atom::value, append("w-1", seq))
        .receive([&](ack_atom) { ++acks; },
                 [](caf::error& err) { BOOST_FAIL("refused: " << caf::to_string(err)); });
    BOOST_TEST(acks == 2);
    self->request(writer, caf::infinite, stats_atom::value)
      .receive([](std::uint64_t events, std::uint64_t batches) {
                 BOOST_TEST(events == 2u);
                 BOOST_TEST(batches == 2u); // each waited for its answer: one write each
               },
               [](caf::error&) { BOOST_FAIL("no stats"); });
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(writer);
  }
  storage::status s = storage::status::ok();
  std::vector<std::uint64_t> seqs;
  BOOST_REQUIRE(log->read_events("w-1", 1, UINT64_MAX, [&](const storage::event& e) {
    seqs.push_back(e.seq);
    return true;
  }));
  BOOST_TEST(seqs == (std::vector<std::uint64_t>{1, 2}));
}

BOOST_AUTO_TEST_CASE(a_failed_write_is_never_acknowledged_and_later_appends_are_refused) {
  test::temp_dir dir;
  open_log(dir.path(), false).reset(); // the log exists; then opened read-only, it refuses writes
  auto log = open_log(dir.path(), true);
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  auto writer = actors::spawn_event_log_writer(sys, *log, 16);
  caf::scoped_actor self{sys};
  std::vector<caf::error> errors;
  for (std::uint64_t seq : {1, 2})
    self->request(writer, caf::infinite, append_atom::value, append("w-2", seq))
      .receive([](ack_atom) { BOOST_FAIL("a write that failed was acknowledged"); },
               [&](caf::error& err) { errors.push_back(std::move(err)); });
  BOOST_REQUIRE_EQUAL(errors.size(), 2u);
  for (auto& err : errors) {
    BOOST_TEST((err == actors::errc::log_write_failed));
    BOOST_TEST(!actors::describe(err).empty());
    BOOST_TEST(sys.render(err).find("log_write_failed: " + actors::describe(err))
               != std::string::npos, sys.render(err));
  }
  BOOST_TEST(actors::describe(errors[1]) == actors::describe(errors[0])); // the first reason, kept
  self->send_exit(writer, caf::exit_reason::user_shutdown);
  self->wait_for(writer);
}

BOOST_AUTO_TEST_SUITE_END()
