#include <iostream>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

void add_sagas(CLI::App& app, sagas_args& args) {
  app.add_option("--status", args.status, "Only sagas with this status")
    ->check(CLI::IsMember({"running", "compensating", "completed", "compensated", "failed",
                           "cancelled"}));
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print one JSON object per saga");
}

int sagas(const sagas_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  storage::status refresh = storage::status::ok();
  auto st = log->for_each_saga([&](std::string_view cid, const storage::saga_row& stored) {
    if (!args.status.empty() && stored.status != args.status)
      return true;
    auto row = stored;
    if (!storage::is_terminal_status(row.status))
      refresh = log->live_row(cid, row);
    if (!refresh)
      return false;
    if (args.json) {
      std::string out;
      config::json_object_writer w{out};
      w.field("cid", cid)
        .field("saga", row.saga)
        .field("status", row.status)
        .field("steps_done", static_cast<std::uint64_t>(row.steps_done))
        .field("steps_total", static_cast<std::uint64_t>(row.steps_total))
        .field("last_seq", row.last_seq)
        .field("started", storage::format_timestamp(row.started_us))
        .field("updated", storage::format_timestamp(row.updated_us));
      if (row.expired)
        w.field("expired", true);
      w.finish();
      std::cout << out << '\n';
    } else {
      std::cout << cid << '\t' << row.saga << '\t' << row.status << '\t' << row.steps_done << '/'
                << row.steps_total << '\t' << storage::format_timestamp(row.updated_us) << '\n';
    }
    return true;
  });
  if (!st || !refresh) {
    std::cerr << "nexus: " << (st ? refresh : st).message() << '\n';
    return 1;
  }
  return 0;
}

} // namespace nexus::app
