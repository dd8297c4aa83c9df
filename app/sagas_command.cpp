#include <algorithm>
#include <iostream>
#include <queue>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

void add_sagas(CLI::App& app, sagas_args& args) {
  app.add_option("--status", args.status, "Only sagas with this status")
    ->check(CLI::IsMember({"running", "compensating", "completed", "compensated", "failed",
                           "cancelled"}));
  app.add_option("--limit", args.limit, "Only the N newest sagas (0: all)")->capture_default_str();
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print one JSON object per saga, newest first");
}

namespace {

struct listed {
  std::string cid;
  storage::saga_row row;
  std::string last_event; ///< Type of its newest event (with its step), or empty.
};

/// Newer first; among sagas started in the same microsecond, by ID.
bool newer(const listed& a, const listed& b) {
  if (a.row.started_us != b.row.started_us)
    return a.row.started_us > b.row.started_us;
  return a.cid < b.cid;
}

/// The sagas to show, newest first: every one, or the `limit` newest kept
/// in a heap as the rows stream by, so memory stays bounded by the limit.
storage::status select(const storage::event_log& log, const sagas_args& args,
                       std::vector<listed>& out) {
  auto older_on_top = [](const listed& a, const listed& b) { return newer(a, b); };
  std::priority_queue<listed, std::vector<listed>, decltype(older_on_top)> newest{older_on_top};
  auto st = log.for_each_saga([&](std::string_view cid, const storage::saga_row& row) {
    if (!args.status.empty() && row.status != args.status)
      return true;
    listed l{std::string{cid}, row, {}};
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

/// Brings a running saga's row up to date and finds each saga's newest event.
storage::status complete(const storage::event_log& log, listed& l) {
  if (!storage::is_terminal_status(l.row.status))
    if (auto st = log.live_row(l.cid, l.row); !st)
      return st;
  if (l.row.expired || l.row.last_seq == 0)
    return storage::status::ok();
  return log.read_events(l.cid, l.row.last_seq, l.row.last_seq, [&](const storage::event& e) {
    l.last_event = std::string{storage::to_string(e.type)};
    if (!e.step.empty())
      l.last_event += " " + e.step;
    return true;
  });
}

void print_json(const listed& l, std::int64_t now) {
  std::string out;
  config::json_object_writer w{out};
  w.field("cid", l.cid)
    .field("saga", l.row.saga)
    .field("status", l.row.status)
    .field("steps_done", static_cast<std::uint64_t>(l.row.steps_done))
    .field("steps_total", static_cast<std::uint64_t>(l.row.steps_total))
    .field("last_seq", l.row.last_seq)
    .field("last_event", l.last_event)
    .field("started", storage::format_timestamp(l.row.started_us))
    .field("updated", storage::format_timestamp(l.row.updated_us))
    .field("age_s", static_cast<double>(now - l.row.started_us) / 1e6);
  if (l.row.expired)
    w.field("expired", true);
  w.finish();
  std::cout << out << '\n';
}

void print_rows(const std::vector<listed>& rows, std::int64_t now) {
  std::vector<std::vector<std::string>> cells{
    {"CORRELATION ID", "SAGA", "STATUS", "STEPS", "LAST EVENT", "AGE"}};
  for (auto& l : rows)
    cells.push_back({l.cid, l.row.saga, l.row.status,
                     std::to_string(l.row.steps_done) + "/" + std::to_string(l.row.steps_total),
                     l.row.expired ? "(expired)" : l.last_event,
                     human_duration(now - l.row.started_us)});
  print_table(
    std::cout, cells,
    [&](std::size_t r, std::size_t c) {
      return c == 2 ? status_colour(rows[r].row.status) : colour::none;
    },
    stdout_colours());
}

} // namespace

int sagas(const sagas_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  std::vector<listed> rows;
  auto st = select(*log, args, rows);
  for (auto& l : rows) {
    if (!st)
      break;
    st = complete(*log, l);
  }
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  auto now = storage::now_us();
  if (args.json) {
    for (auto& l : rows)
      print_json(l, now);
  } else if (rows.empty()) {
    std::cerr << "nexus: no sagas" << (args.status.empty() ? "" : " " + args.status) << " in "
              << args.data_dir << '\n';
  } else {
    print_rows(rows, now);
  }
  return 0;
}

} // namespace nexus::app
