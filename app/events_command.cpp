#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include "app/commands.hpp"
#include "config/definition.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "storage/breaker_row.hpp"
#include "storage/correlation_id.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

volatile std::sig_atomic_t interrupted = 0;

colour type_colour(storage::event_type t) {
  using storage::event_type;
  switch (t) {
    case event_type::step_failed:
    case event_type::compensation_failed:
    case event_type::saga_failed:
      return colour::red;
    case event_type::step_succeeded:
    case event_type::compensation_succeeded:
    case event_type::saga_completed:
      return colour::green;
    case event_type::compensation_started:
    case event_type::saga_compensated:
    case event_type::breaker_opened:
    case event_type::breaker_half_open:
      return colour::yellow;
    case event_type::cancel_requested:
    case event_type::saga_cancelled:
      return colour::magenta;
    default:
      return colour::none;
  }
}

/// Time since the saga's first event: "+0.012s", or "+3m04s" past 1000 s.
std::string since(std::int64_t us) {
  if (us >= 1'000'000'000)
    return "+" + human_duration(us);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "+%.3fs", static_cast<double>(us) / 1e6);
  return buf;
}

/// Prints one event as a line of a timeline: the time since `start_us` (or,
/// when it is 0, the time of day and the saga's ID), the type, the step and
/// attempt, then the error, the retry time and the output.
void print_event(const storage::event& e, std::int64_t start_us, bool colours) {
  std::string line;
  if (start_us != 0)
    line = pad(since(e.ts_us - start_us), 11);
  else
    line = storage::format_timestamp(e.ts_us) + "  " + e.cid + "  ";
  line += paint(pad(storage::to_string(e.type), 24), type_colour(e.type), colours);
  std::vector<std::string> details;
  if (!e.step.empty())
    details.push_back(e.attempt > 0 ? e.step + " #" + std::to_string(e.attempt) : e.step);
  if (e.type == storage::event_type::saga_started && !e.definition.empty())
    details.push_back("definition " + std::string{config::short_hash(e.definition)});
  if (!e.trace_id.empty())
    details.push_back("trace " + e.trace_id
                      + (e.parent_span_id.empty() ? std::string{} : " from span " + e.parent_span_id));
  if (e.type == storage::event_type::definition_changed)
    details.push_back("from " + (e.from_definition.empty()
                                   ? std::string{"(none stored)"}
                                   : std::string{config::short_hash(e.from_definition)})
                      + " to " + std::string{config::short_hash(e.definition)});
  if (e.error)
    details.push_back(paint(std::string{config::to_string(*e.error)} + ": "
                              + storage::escape_for_display(e.message, 400),
                            colour::red, colours));
  else if (!e.message.empty())
    details.push_back(storage::escape_for_display(e.message, 400));
  if (e.retry_at_us != 0)
    details.push_back(start_us != 0 ? "next at " + since(e.retry_at_us - start_us)
                                    : "next at " + storage::format_timestamp(e.retry_at_us));
  if (!e.signal.empty())
    details.push_back(e.type == storage::event_type::step_succeeded ? "by signal " + e.signal
                                                                    : "signal " + e.signal);
  if (!e.signal_id.empty())
    details.push_back("signal_id " + storage::escape_for_display(e.signal_id, 200));
  if (e.wake_at_us != 0)
    details.push_back((e.signal.empty() ? "until " : "times out at ")
                      + (start_us != 0 ? since(e.wake_at_us - start_us)
                                       : storage::format_timestamp(e.wake_at_us)));
  if (!e.data.empty())
    details.push_back("data " + e.data);
  if (!e.input.empty())
    details.push_back("input " + e.input);
  if (!e.output.empty())
    details.push_back("output " + e.output);
  for (std::size_t i = 0; i < details.size(); ++i)
    line += (i == 0 ? "" : "  ") + details[i];
  while (!line.empty() && line.back() == ' ')
    line.pop_back();
  std::cout << line << '\n';
}

/// Prints one stored event as `--json` or the timeline asks. `start_us`
/// is the time of the saga's first event (0 until it is known, and when
/// following every saga).
bool print_stored(const events_args& args, std::string_view json, std::int64_t& start_us) {
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
  bool colours = stdout_colours();
  if (!args.cid.empty() && start_us == 0) {
    start_us = e.ts_us;
    auto resource = storage::breaker_resource(e.cid);
    auto whose = resource ? "breaker " + std::string{*resource}
                          : "saga " + e.cid + (e.saga.empty() ? "" : " (" + e.saga + ")")
                              + (e.definition.empty()
                                   ? ""
                                   : ", definition "
                                       + std::string{config::short_hash(e.definition)});
    std::cout << paint(whose + ", from " + storage::format_timestamp(e.ts_us), colour::grey, colours)
              << '\n';
  }
  print_event(e, args.cid.empty() ? 0 : start_us, colours);
  return true;
}

/// Tails the log through a RocksDB secondary instance, so that it runs beside
/// a `nexus run` in another process. Starts at the end: new events only
/// (or, with a CID, that saga's history first).
int follow(const events_args& args, std::uint64_t start, std::int64_t start_us) {
  // start_us: when a saga's history was printed first, its first event's time.
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
    auto st = log->read_in_order(
      position,
      [&](std::uint64_t pos, std::string_view json) {
        position = pos + 1;
        return print_stored(args, json, start_us);
      },
      args.cid);
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
  std::int64_t start_us = 0;
  storage::status st = storage::status::ok();
  if (!args.cid.empty()) {
    st = log->read_raw(args.cid, 1, UINT64_MAX, [&](std::uint64_t, std::string_view json) {
      ++count;
      return print_stored(args, json, start_us);
    });
  }
  if (args.follow) {
    auto start = log->next_position();
    log.reset();
    return st ? follow(args, start, start_us) : 1;
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
                << to_string(row->status) << " at " << storage::format_timestamp(row->updated_us) << " after "
                << row->last_seq << " events\n";
      return 0;
    }
    std::cerr << "nexus: no saga " << args.cid << " in " << args.data_dir << '\n';
    return 1;
  }
  return 0;
}

} // namespace nexus::app
