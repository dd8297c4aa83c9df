#pragma once

// What the storage and replication tests write and read: a saga's events
// as one append request, a log opened for writing (or reading) in a test's
// directory, and all a log holds that a reader can see.

#include <map>
#include <memory>
#include <string>

#include <boost/test/unit_test.hpp>

#include "storage/event_log.hpp"

namespace nexus::test {

inline storage::append_request request(const std::string& cid, std::uint64_t from,
                                       std::uint64_t to, const std::string& status = "running") {
  using namespace nexus::storage;
  append_request req;
  req.cid = cid;
  for (auto seq = from; seq <= to; ++seq) {
    event e;
    e.seq = seq;
    e.ts_us = 1000 + static_cast<std::int64_t>(seq);
    e.cid = cid;
    e.type = seq == 1 ? event_type::saga_started : event_type::step_started;
    e.saga = "s";
    if (seq > 1)
      e.step = "a";
    std::string json;
    encode_event(e, json);
    req.events.emplace_back(seq, std::move(json));
  }
  req.row.emplace();
  req.row->saga = "s";
  req.row->status = *parse_saga_status(status);
  req.row->last_seq = to;
  req.row->steps_total = 1;
  return req;
}

inline std::unique_ptr<storage::event_log> open_log(const std::string& dir,
                                                   bool read_only = false) {
  using namespace nexus::storage;
  std::string err;
  auto log = event_log::open(read_only ? log_options::reader(dir)
                                       : log_options::writer(dir, config::durability::sync),
                             err);
  BOOST_REQUIRE_MESSAGE(log, err);
  return log;
}

/// Everything a log holds that a reader can see, as text: events by saga,
/// rows, definitions, and the global order.
inline std::map<std::string, std::string> contents(const storage::event_log& log) {
  using namespace nexus::storage;
  std::map<std::string, std::string> out;
  BOOST_REQUIRE(log.for_each_event([&](std::string_view cid, std::string_view json) {
                      out["event " + std::string{cid}] += std::string{json} + "\n";
                      return true;
                    })
                  .is_ok());
  BOOST_REQUIRE(log.for_each_saga([&](std::string_view cid, const saga_row& row) {
                      out["row " + std::string{cid}] = std::string{to_string(row.status)}
                                                       + (row.expired ? " expired" : "");
                      return true;
                    })
                  .is_ok());
  BOOST_REQUIRE(log.for_each_definition([&](const stored_definition& d) {
                      out["definition " + d.hash] = d.json;
                      return true;
                    })
                  .is_ok());
  BOOST_REQUIRE(log.read_in_order(1, [&](std::uint64_t position, std::string_view json) {
                      out["order"] += std::to_string(position) + " " + std::string{json} + "\n";
                      return true;
                    })
                  .is_ok());
  return out;
}

} // namespace nexus::test
