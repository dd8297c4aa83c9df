#pragma once

// What the storage tests write: a saga's events as one append request, and
// a log opened for writing (or reading) in a test's directory.

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

} // namespace nexus::test
