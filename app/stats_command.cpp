#include <iostream>
#include <map>
#include <tuple>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/json_writer.hpp"
#include "runtime/latency_histogram.hpp"

namespace nexus::app {

void add_stats(CLI::App& app, stats_args& args) {
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print the figures as one JSON object");
}

namespace {

/// What the log says about one step, or about one step's compensation.
struct step_figures {
  std::uint64_t attempts = 0;  ///< Started.
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;    ///< Ran and failed (refusals apart).
  std::uint64_t refused = 0;   ///< Refused by an open breaker or a full stage: never ran.
  runtime::latency_histogram latency; ///< From start to outcome, of attempts that ran.

  double success_rate() const {
    auto ran = succeeded + failed;
    return ran == 0 ? 0.0 : 100.0 * static_cast<double>(succeeded) / static_cast<double>(ran);
  }
};

/// (saga, step, compensation)
using step_key = std::tuple<std::string, std::string, bool>;

struct figures {
  std::map<std::string, std::uint64_t> by_status;
  std::uint64_t sagas = 0;
  std::uint64_t events = 0;
  std::map<step_key, step_figures> steps;
};

/// Streams every event once, saga by saga: only the start times of one
/// saga's running attempts are held, whatever the size of the log.
storage::status gather(const storage::event_log& log, figures& f) {
  auto st = log.for_each_saga([&](std::string_view, const storage::saga_row& row) {
    ++f.by_status[row.status];
    ++f.sagas;
    return true;
  });
  if (!st)
    return st;
  std::string current, error;
  std::map<std::pair<std::string, bool>, std::int64_t> started; // of `current`'s attempts
  storage::event e;
  storage::status bad = storage::status::ok();
  st = log.for_each_event([&](std::string_view cid, std::string_view json) {
    ++f.events;
    if (cid != current) {
      current = cid;
      started.clear();
    }
    if (!storage::decode_event(json, e, error)) {
      bad = storage::status::error("unreadable event of saga " + std::string{cid} + ": " + error);
      return false;
    }
    using storage::event_type;
    bool comp = e.type == event_type::compensation_started
                || e.type == event_type::compensation_succeeded
                || e.type == event_type::compensation_failed;
    switch (e.type) {
      case event_type::step_started:
      case event_type::compensation_started:
        ++f.steps[{e.saga, e.step, comp}].attempts;
        started[{e.step, comp}] = e.ts_us;
        break;
      case event_type::step_succeeded:
      case event_type::step_failed:
      case event_type::compensation_succeeded:
      case event_type::compensation_failed: {
        auto& s = f.steps[{e.saga, e.step, comp}];
        bool ok = e.type == event_type::step_succeeded
                  || e.type == event_type::compensation_succeeded;
        if (!ok && e.error == config::error_kind::circuit_open) {
          ++s.refused;
        } else {
          ++(ok ? s.succeeded : s.failed);
          auto begun = started.find({e.step, comp});
          if (begun != started.end() && e.ts_us >= begun->second)
            s.latency.record(static_cast<std::uint64_t>(e.ts_us - begun->second));
        }
        started.erase({e.step, comp});
        break;
      }
      default:
        break;
    }
    return true;
  });
  return st ? bad : st;
}

constexpr const char* statuses[] = {"completed", "compensated", "failed", "cancelled", "running",
                                    "compensating"};

void print_json(const figures& f) {
  std::string out;
  config::json_object_writer w{out};
  {
    std::string counts;
    config::json_object_writer c{counts};
    c.field("total", f.sagas);
    for (auto* s : statuses) {
      auto i = f.by_status.find(s);
      c.field(s, i == f.by_status.end() ? std::uint64_t{0} : i->second);
    }
    c.finish();
    w.raw_field("sagas", counts);
  }
  w.field("events", f.events);
  std::string steps = "[";
  for (auto& [key, s] : f.steps) {
    std::string one, latency;
    config::json_object_writer l{latency};
    l.field("p50", static_cast<double>(s.latency.quantile(0.50)) / 1e3)
      .field("p90", static_cast<double>(s.latency.quantile(0.90)) / 1e3)
      .field("p99", static_cast<double>(s.latency.quantile(0.99)) / 1e3)
      .field("max", static_cast<double>(s.latency.max()) / 1e3);
    l.finish();
    config::json_object_writer o{one};
    o.field("saga", std::get<0>(key))
      .field("step", std::get<1>(key))
      .field("compensation", std::get<2>(key))
      .field("attempts", s.attempts)
      .field("succeeded", s.succeeded)
      .field("failed", s.failed)
      .field("refused", s.refused)
      .field("success_rate", s.success_rate())
      .field("failure_rate", s.succeeded + s.failed == 0 ? 0.0 : 100.0 - s.success_rate())
      .raw_field("latency_ms", latency);
    o.finish();
    steps += (steps.size() > 1 ? "," : "") + one;
  }
  steps += "]";
  w.raw_field("steps", steps);
  w.finish();
  std::cout << out << '\n';
}

void print_figures(const figures& f) {
  bool colours = stdout_colours();
  std::cout << "sagas   " << f.sagas;
  for (auto* s : statuses) {
    auto i = f.by_status.find(s);
    if (i != f.by_status.end() || std::string_view{s} != "compensating")
      std::cout << "   " << paint(s, status_colour(s), colours) << ' '
                << (i == f.by_status.end() ? 0 : i->second);
  }
  std::cout << "\nevents  " << f.events << "\n";
  if (f.steps.empty())
    return;
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"STEP", "ATTEMPTS", "SUCCEEDED", "FAILED", "REFUSED", "SUCCESS", "P50", "P90",
                  "P99"});
  for (auto& [key, s] : f.steps) {
    char rate[16];
    std::snprintf(rate, sizeof(rate), "%.1f%%", s.success_rate());
    auto ms = [&](double q) {
      return s.latency.count() == 0
               ? std::string{"-"}
               : human_duration(static_cast<std::int64_t>(s.latency.quantile(q)));
    };
    rows.push_back({std::get<0>(key) + "/" + std::get<1>(key)
                      + (std::get<2>(key) ? " (compensation)" : ""),
                    std::to_string(s.attempts), std::to_string(s.succeeded),
                    std::to_string(s.failed), std::to_string(s.refused),
                    s.succeeded + s.failed == 0 ? "-" : rate, ms(0.50), ms(0.90), ms(0.99)});
  }
  std::cout << '\n';
  app::print_table(std::cout, rows, nullptr, colours);
}

} // namespace

int stats(const stats_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  figures f;
  if (auto st = gather(*log, f); !st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (args.json)
    print_json(f);
  else
    print_figures(f);
  return 0;
}

} // namespace nexus::app
