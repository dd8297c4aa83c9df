#include <algorithm>
#include <iostream>
#include <queue>
#include <vector>

#include "app/commands.hpp"
#include "app/log_queries.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/definition.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// Newer first; among sagas started in the same microsecond, by ID.
bool newer(const saga_listing& a, const saga_listing& b) {
  if (a.row.started_us != b.row.started_us)
    return a.row.started_us > b.row.started_us;
  return a.cid < b.cid;
}

/// The sagas to show, newest first: every one, or the `limit` newest kept
/// in a heap as the rows stream by, so memory stays bounded by the limit.
storage::status select(const storage::event_log& log, const sagas_args& args,
                       std::vector<saga_listing>& out) {
  auto older_on_top = [](const saga_listing& a, const saga_listing& b) { return newer(a, b); };
  std::priority_queue<saga_listing, std::vector<saga_listing>, decltype(older_on_top)> newest{older_on_top};
  // The command line let only a status through, or nothing.
  auto only = args.status.empty() ? std::nullopt : storage::parse_saga_status(args.status);
  auto st = log.for_each_saga([&](std::string_view cid, const storage::saga_row& row) {
    if (only && row.status != *only)
      return true;
    saga_listing l{std::string{cid}, row, {}, {}};
    if (args.limit == 0) {
      out.push_back(std::move(l));
    } else if (newest.size() < args.limit) {
      newest.push(std::move(l));
    } else if (newer(l, newest.top())) {
      newest.pop();
      newest.push(std::move(l));
    }
    return true;
  });
  while (!newest.empty()) {
    out.push_back(newest.top());
    newest.pop();
  }
  std::sort(out.begin(), out.end(), newer);
  return st;
}

void print_rows(const std::vector<saga_listing>& rows, std::int64_t now) {
  std::vector<std::vector<std::string>> cells{
    {"CORRELATION ID", "SAGA", "DEFINITION", "STATUS", "STEPS", "LAST EVENT", "AGE"}};
  for (auto& l : rows)
    cells.push_back({l.cid, l.row.saga,
                     l.row.definition.empty() ? "-" : std::string{config::short_hash(l.row.definition)},
                     std::string{to_string(l.row.status)},
                     std::to_string(l.row.steps_done) + "/" + std::to_string(l.row.steps_total),
                     l.row.expired ? "(expired)"
                     : l.waiting_for.empty()
                       ? l.last_event
                       : l.last_event + " (waits: " + l.waiting_for
                           + (l.row.parked ? "; parked" : "") + ")",
                     human_duration(now - l.row.started_us)});
  print_table(
    std::cout, cells,
    [&](std::size_t r, std::size_t c) {
      return c == 3 ? status_colour(rows[r].row.status) : colour::none;
    },
    stdout_colours());
}

} // namespace

int sagas(const sagas_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  std::vector<saga_listing> rows;
  auto st = select(*log, args, rows);
  for (auto& l : rows) {
    if (!st)
      break;
    st = complete_listing(*log, l);
  }
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  auto now = storage::now_us();
  if (args.json) {
    for (auto& l : rows)
      std::cout << saga_listing_json(l, now) << '\n';
  } else if (rows.empty()) {
    std::cerr << "nexus: no sagas" << (args.status.empty() ? "" : " " + args.status) << " in "
              << args.data_dir << '\n';
  } else {
    print_rows(rows, now);
  }
  return 0;
}

} // namespace nexus::app
