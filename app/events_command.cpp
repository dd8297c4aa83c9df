#include <iostream>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "storage/correlation_id.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

void add_events(CLI::App& app, events_args& args) {
  app.add_option("cid", args.cid, "Correlation ID of the saga")->required();
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print each event as its stored JSON, one per line");
}

int events(const events_args& args) {
  if (!storage::valid_correlation_id(args.cid)) {
    std::cerr << "nexus: " << storage::correlation_id_problem(args.cid) << '\n';
    return 2;
  }
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  std::uint64_t count = 0;
  storage::status st = storage::status::ok();
  if (args.json) {
    st = log->read_raw(args.cid, 1, UINT64_MAX, [&](std::uint64_t, std::string_view json) {
      std::cout << json << '\n';
      ++count;
      return true;
    });
  } else {
    st = log->read_events(args.cid, 1, UINT64_MAX, [&](const storage::event& e) {
      std::cout << e.seq << '\t' << storage::format_timestamp(e.ts_us) << '\t'
                << storage::to_string(e.type);
      if (!e.step.empty())
        std::cout << '\t' << e.step;
      if (e.attempt > 0)
        std::cout << "\tattempt " << e.attempt;
      if (e.error)
        std::cout << '\t' << config::to_string(*e.error) << ": " << storage::escape_for_display(e.message);
      else if (!e.message.empty())
        std::cout << '\t' << storage::escape_for_display(e.message);
      if (e.retry_at_us != 0)
        std::cout << "\tretry at " << storage::format_timestamp(e.retry_at_us);
      if (!e.output.empty())
        std::cout << "\toutput " << e.output;
      std::cout << '\n';
      ++count;
      return true;
    });
  }
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (count == 0) {
    std::cerr << "nexus: no saga " << args.cid << " in " << args.data_dir << '\n';
    return 1;
  }
  return 0;
}

} // namespace nexus::app
