#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "storage/correlation_id.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

void add_events(CLI::App& app, events_args& args) {
  app.add_option("cid", args.cid, "Correlation ID of the saga (all sagas with --follow)");
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print each event as its stored JSON, one per line");
  app.add_flag("--follow", args.follow,
               "Keep printing new events, in the order they are written, until interrupted");
  app.add_option("--poll-ms", args.poll_ms, "With --follow: how often to look for new events")
    ->check(CLI::Range(1u, 60000u))
    ->capture_default_str();
}

namespace {

volatile std::sig_atomic_t interrupted = 0;

void print_event(const storage::event& e) {
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
}

/// Prints one stored event as `--json` or the timeline asks.
bool print_stored(const events_args& args, std::string_view json) {
  if (args.json) {
    std::cout << json << '\n';
    return true;
  }
  storage::event e;
  std::string err;
  if (!storage::decode_event(json, e, err)) {
    std::cerr << "nexus: unreadable event: " << err << '\n';
    return false;
  }
  if (args.follow && args.cid.empty())
    std::cout << e.cid << '\t';
  print_event(e);
  return true;
}

/// Tails the log through a RocksDB secondary instance, so that it runs beside
/// a `nexus run` in another process. Starts at the end: new events only
/// (or, with a CID, that saga's history first).
int follow(const events_args& args, std::uint64_t start) {
  char tmpl[] = "/tmp/nexus-follow-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::cerr << "nexus: cannot make a directory for following: " << std::strerror(errno) << '\n';
    return 1;
  }
  std::string secondary = tmpl;
  std::string error;
  auto log = storage::event_log::open(storage::log_options::follower(args.data_dir, secondary), error);
  int status = 0;
  if (!log) {
    std::cerr << "nexus: " << error << '\n';
    status = 1;
  }
  std::signal(SIGINT, [](int) { interrupted = 1; });
  std::signal(SIGTERM, [](int) { interrupted = 1; });
  auto position = log ? std::max(start, log->next_position()) : 0;
  if (log)
    std::cerr << "nexus: following " << args.data_dir << " from event " << position
              << " (Ctrl-C to stop)" << std::endl;
  while (log && interrupted == 0) {
    auto st = log->read_in_order(position, [&](std::uint64_t pos, std::string_view json) {
      position = pos + 1;
      if (!args.cid.empty() && json.find("\"cid\":\"" + args.cid + "\"") == std::string_view::npos)
        return true;
      return print_stored(args, json);
    });
    std::cout.flush();
    if (!st) {
      std::cerr << "nexus: " << st.message() << '\n';
      status = 1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(args.poll_ms));
    if (auto c = log->catch_up(); !c) {
      std::cerr << "nexus: " << c.message() << '\n';
      status = 1;
      break;
    }
  }
  log.reset();
  std::error_code ec;
  std::filesystem::remove_all(secondary, ec);
  return status;
}

} // namespace

int events(const events_args& args) {
  if (args.cid.empty() && !args.follow) {
    std::cerr << "nexus: events needs a correlation ID, or --follow for every saga\n";
    return 2;
  }
  if (!args.cid.empty() && !storage::valid_correlation_id(args.cid)) {
    std::cerr << "nexus: " << storage::correlation_id_problem(args.cid) << '\n';
    return 2;
  }
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  std::uint64_t count = 0;
  storage::status st = storage::status::ok();
  if (!args.cid.empty()) {
    st = log->read_raw(args.cid, 1, UINT64_MAX, [&](std::uint64_t, std::string_view json) {
      ++count;
      return print_stored(args, json);
    });
  }
  if (args.follow) {
    auto start = log->next_position();
    log.reset();
    return st ? follow(args, start) : 1;
  }
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (count == 0) {
    storage::status found = storage::status::ok();
    auto row = log->find_saga(args.cid, found);
    if (row && row->expired) {
      std::cerr << "nexus: the events of saga " << args.cid << " were removed by retention; it ended "
                << row->status << " at " << storage::format_timestamp(row->updated_us) << " after "
                << row->last_seq << " events\n";
      return 0;
    }
    std::cerr << "nexus: no saga " << args.cid << " in " << args.data_dir << '\n';
    return 1;
  }
  return 0;
}

} // namespace nexus::app
