#include "app/log_queries.hpp"

#include <map>

#include "config/json_writer.hpp"
#include "runtime/saga_progress.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// What `nexus sagas` says of an event: its type, and its step.
std::string describe(const storage::event& e) {
  auto out = std::string{storage::to_string(e.type)};
  if (!e.step.empty())
    out += " " + e.step;
  return out;
}

} // namespace

// A running saga's events are read once: its progress, its newest event,
// and what its steps whose newest event is a step_waiting wait for.
storage::status complete_listing(const storage::event_log& log, saga_listing& l) {
  if (!storage::is_terminal(l.row.status)) {
    std::map<std::string, std::string> waiting; // step -> what it waits for
    auto st = runtime::live_progress(log, l.cid, l.row, [&](const storage::event& e) {
      l.last_event = describe(e);
      if (e.step.empty())
        return;
      if (e.type != storage::event_type::step_waiting) {
        waiting.erase(e.step);
        return;
      }
      std::string what = e.signal.empty() ? "" : "signal " + e.signal;
      if (e.wake_at_us != 0)
        what += (what.empty() ? "" : " ") + std::string{"until "}
                + storage::format_timestamp(e.wake_at_us);
      waiting[e.step] = what;
    });
    for (auto& [step, what] : waiting)
      l.waiting_for += (l.waiting_for.empty() ? "" : "; ") + step + ": " + what;
    return st;
  }
  if (l.row.expired || l.row.last_seq == 0)
    return storage::status::ok();
  return log.read_events(l.cid, l.row.last_seq, l.row.last_seq, [&](const storage::event& e) {
    l.last_event = describe(e);
    return true;
  });
}

std::string saga_listing_json(const saga_listing& l, std::int64_t now) {
  std::string out;
  config::json_object_writer w{out};
  w.field("cid", l.cid)
    .field("saga", l.row.saga)
    .field("definition", l.row.definition)
    .field("status", to_string(l.row.status))
    .field("steps_done", static_cast<std::uint64_t>(l.row.steps_done))
    .field("steps_total", static_cast<std::uint64_t>(l.row.steps_total))
    .field("last_seq", l.row.last_seq)
    .field("last_event", l.last_event)
    .field("started", storage::format_timestamp(l.row.started_us))
    .field("updated", storage::format_timestamp(l.row.updated_us))
    .field("age_s", static_cast<double>(now - l.row.started_us) / 1e6);
  if (l.row.expired)
    w.field("expired", true);
  if (!l.waiting_for.empty())
    w.field("waiting_for", l.waiting_for);
  if (l.row.parked && !storage::is_terminal(l.row.status))
    w.field("parked", true);
  w.finish();
  return out;
}

std::string breaker_json(std::string_view resource, const storage::breaker_row& row) {
  auto next_trial = row.open_until_us != 0 ? storage::format_timestamp(row.open_until_us) : "";
  std::string out;
  config::json_object_writer w{out};
  w.field("resource", resource)
    .field("state", row.state)
    .field("failure_rate", row.failure_rate)
    .field("slow_call_rate", row.slow_call_rate)
    .field("calls", static_cast<std::uint64_t>(row.calls))
    .field("failed_calls", static_cast<std::uint64_t>(row.failed_calls))
    .field("slow_calls", static_cast<std::uint64_t>(row.slow_calls))
    .field("reopens", static_cast<std::uint64_t>(row.reopens));
  if (!next_trial.empty())
    w.field("next_trial", next_trial);
  w.field("last_seq", row.last_seq).field("updated", storage::format_timestamp(row.updated_us));
  w.finish();
  return out;
}

storage::status gather_figures(const storage::event_log& log, log_figures& f) {
  auto st = log.for_each_saga([&](std::string_view, const storage::saga_row& row) {
    ++f.by_status[row.status];
    ++f.sagas;
    ++f.definitions[{row.saga, row.definition}];
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

std::string figures_json(const log_figures& f) {
  std::string out;
  config::json_object_writer w{out};
  {
    std::string counts;
    config::json_object_writer c{counts};
    c.field("total", f.sagas);
    for (auto s : listed_statuses) {
      auto i = f.by_status.find(s);
      c.field(to_string(s), i == f.by_status.end() ? std::uint64_t{0} : i->second);
    }
    c.finish();
    w.raw_field("sagas", counts);
  }
  w.field("events", f.events);
  std::string definitions = "[";
  for (auto& [key, n] : f.definitions) {
    std::string one;
    config::json_object_writer o{one};
    o.field("saga", key.first).field("definition", key.second).field("sagas", n);
    o.finish();
    definitions += (definitions.size() > 1 ? "," : "") + one;
  }
  w.raw_field("definitions", definitions + "]");
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
  return out;
}

} // namespace nexus::app
