#include "app/saga_operations.hpp"

#include <deque>
#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <vector>

#include "actors/engine.hpp"
#include "app/log_queries.hpp"
#include "runtime/logging.hpp"
#include "config/json_writer.hpp"
#include "config/workflow.hpp"
#include "config/workflow_loader.hpp"
#include "storage/correlation_id.hpp"
#include "storage/event.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

using kind = op_result::kind;

namespace {

op_result fail(kind k, std::string why, std::string field = {}) {
  return op_result::failure(k, std::move(why), std::move(field));
}

op_result done(std::string json, kind k = kind::done) {
  return {k, std::move(json), {}, {}};
}

/// A correlation ID for a start that gave none: unique in this process, and
/// across processes by the time it was made.
std::string made_up_cid() {
  static std::atomic<std::uint64_t> made{0};
  return "mcp-" + std::to_string(storage::now_us()) + "-" + std::to_string(++made);
}

} // namespace

namespace {

/// Why saga `saga` cannot start under `cid` before it is tried; none if it may.
std::optional<op_result> check_start(const config::workflow& wf, const std::string& saga,
                                     const std::optional<std::string>& cid) {
  if (wf.find_saga(saga) == nullptr) {
    std::string names;
    for (auto& [name, _] : wf.sagas)
      names += (names.empty() ? "" : ", ") + name;
    return fail(kind::not_found,
                "saga: the workflow has no saga named \"" + saga + "\" (it has " + names + ")",
                "/saga");
  }
  if (cid && !storage::valid_correlation_id(*cid))
    return fail(kind::bad_request, "correlation_id: " + storage::correlation_id_problem(*cid),
                "/correlation_id");
  return std::nullopt;
}

/// What start `result` of saga `saga` under `cid` means for a client.
op_result started(actors::engine& e, const config::workflow& wf, const std::string& saga,
                  const std::string& cid, actors::start_result result) {
  switch (result) {
    case actors::start_result::started: {
      std::string out;
      config::json_object_writer w{out};
      w.field("correlation_id", cid).field("saga", saga).field("status", "running");
      w.finish();
      return done(out, kind::started);
    }
    case actors::start_result::duplicate: {
      auto state = get_saga(e, wf, cid, 0, 1);
      auto r = fail(kind::duplicate,
                    "correlation_id: " + cid + " is already in the log: a saga is never "
                    "started twice (see get_saga)",
                    "/correlation_id");
      if (state.ok() && state.json.size() > 1) {
        r.json = state.json;
        r.json.pop_back();
        r.json += ",\"duplicate\":true}";
      }
      return r;
    }
    case actors::start_result::bad_id:
      return fail(kind::bad_request, "correlation_id: " + storage::correlation_id_problem(cid),
                  "/correlation_id");
    case actors::start_result::bad_input:
      return fail(kind::bad_request, "input: expected a JSON object", "/input");
    case actors::start_result::unknown_saga:
      return fail(kind::not_found, "saga: the workflow has no saga named \"" + saga + "\"",
                  "/saga");
    case actors::start_result::closed:
    case actors::start_result::refused:
      break;
  }
  return fail(kind::unavailable, "the engine is stopping: it takes no more sagas");
}

} // namespace

op_result start_saga(actors::engine& e, const config::workflow& wf, const std::string& saga,
                     const std::string& input, std::optional<std::string> cid) {
  if (auto refused = check_start(wf, saga, cid))
    return *refused;
  bool made_up = !cid;
  if (made_up)
    cid = made_up_cid();
  auto result = e.start(saga, *cid, input);
  for (int tries = 0; made_up && result == actors::start_result::duplicate && tries < 3; ++tries)
    result = e.start(saga, *(cid = made_up_cid()), input);
  return started(e, wf, saga, *cid, result);
}

void start_saga_then(actors::engine& e, const config::workflow& wf, const std::string& saga,
                     const std::string& input, std::optional<std::string> cid,
                     std::function<void(op_result, const std::string& cid)> then,
                     const std::string& traceparent, const std::string& tracestate) {
  if (auto refused = check_start(wf, saga, cid))
    return then(std::move(*refused), cid ? *cid : std::string{});
  if (!cid)
    cid = made_up_cid(); // unique in this process, and across processes by its time
  e.start_then(saga, *cid, input,
               [&e, &wf, saga, id = *cid, then = std::move(then)](actors::start_result r) {
                 then(started(e, wf, saga, id, r), id);
               },
               traceparent, tracestate);
}

namespace {

/// One step as get_saga shows it, folded from its events.
struct step_state {
  std::string status = "pending";
  std::uint32_t attempts = 0;
  std::string output;
  std::string error_kind;
  std::string message;
  std::int64_t retry_at_us = 0;
  std::uint32_t compensation_attempts = 0;
};

void fold(std::map<std::string, step_state>& steps, const storage::event& e) {
  using storage::event_type;
  if (e.step.empty())
    return;
  auto& s = steps[e.step];
  auto set_error = [&] {
    s.error_kind = e.error ? std::string{config::to_string(*e.error)} : "";
    s.message = e.message;
  };
  switch (e.type) {
    case event_type::step_started:
      s.status = "running";
      s.attempts = std::max(s.attempts, e.attempt);
      break;
    case event_type::step_succeeded:
      s.status = "succeeded";
      s.output = e.output;
      s.error_kind.clear();
      s.message.clear();
      break;
    case event_type::step_failed:
      s.status = "failed";
      set_error();
      break;
    case event_type::step_retry_scheduled:
      s.status = "retry_scheduled";
      s.retry_at_us = e.retry_at_us;
      break;
    case event_type::compensation_started:
      s.status = "compensating";
      s.compensation_attempts = std::max(s.compensation_attempts, e.attempt);
      break;
    case event_type::compensation_succeeded:
      s.status = "compensated";
      break;
    case event_type::compensation_failed:
      s.status = "compensation_failed";
      set_error();
      break;
    default:
      break;
  }
}

} // namespace

op_result get_saga(actors::engine& e, const config::workflow& wf, const std::string& id,
                   std::uint64_t after_seq, std::uint64_t limit_n) {
  std::string error;
  auto cid = &id;
  auto after = &after_seq;
  auto limit = &limit_n;
  auto* log = e.log();
  storage::status st = storage::status::ok();
  auto row = log->find_saga(*cid, st);
  if (!st)
    return fail(kind::unavailable, st.message());
  if (!row)
    return fail(kind::not_found, "correlation_id: no saga " + *cid + " in the log (list_sagas lists them)",
                "/correlation_id");
  saga_listing l{*cid, *row, {}, {}};
  if (st = complete_listing(*log, l); !st)
    return fail(kind::unavailable, st.message());

  std::map<std::string, step_state> steps;
  std::string input, trace_id, events = "[";
  std::uint64_t page = 0, next_after = 0;
  bool more = false;
  storage::event ev;
  st = log->read_raw(*cid, 1, std::numeric_limits<std::uint64_t>::max(),
                     [&](std::uint64_t seq, std::string_view json) {
                       if (!storage::decode_event(json, ev, error))
                         return false;
                       fold(steps, ev);
                       if (ev.type == storage::event_type::saga_started) {
                         input = ev.input;
                         trace_id = ev.trace_id;
                       }
                       if (seq > *after) {
                         if (page < *limit) {
                           events += (page++ == 0 ? "" : ",");
                           events += json;
                           next_after = seq;
                         } else {
                           more = true;
                         }
                       }
                       return true;
                     });
  if (!st)
    return fail(kind::unavailable, st.message());
  if (!error.empty())
    return fail(kind::unavailable, "saga " + *cid + ": an unreadable event: " + error);
  events += "]";

  // Every step of its own definition, in order, those not reached as
  // pending (the workflow's saga of its name for a row from before
  // definitions were stored).
  std::vector<std::string> order;
  auto* spec = row->definition.empty() ? wf.find_saga(row->saga) : e.definition(row->definition);
  if (spec != nullptr)
    for (auto& s : spec->steps)
      order.push_back(s.name);
  for (auto& [name, _] : steps)
    if (std::find(order.begin(), order.end(), name) == order.end())
      order.push_back(name);
  std::string steps_json = "[", outputs;
  config::json_object_writer outs{outputs};
  for (auto& name : order) {
    auto s = steps.count(name) > 0 ? steps[name] : step_state{};
    std::string one;
    config::json_object_writer w{one};
    w.field("name", name).field("status", s.status).field("attempts",
                                                          static_cast<std::uint64_t>(s.attempts));
    if (!s.output.empty()) {
      w.raw_field("output", s.output);
      outs.raw_field(name, s.output);
    }
    if (!s.error_kind.empty())
      w.field("error_kind", s.error_kind);
    if (!s.message.empty())
      w.field("error", s.message);
    if (s.status == "retry_scheduled" && s.retry_at_us != 0)
      w.field("retry_at", storage::format_timestamp(s.retry_at_us));
    if (s.compensation_attempts > 0)
      w.field("compensation_attempts", static_cast<std::uint64_t>(s.compensation_attempts));
    w.finish();
    steps_json += (steps_json.size() > 1 ? "," : "") + one;
  }
  steps_json += "]";
  outs.finish();

  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", *cid)
    .field("saga", row->saga)
    .field("definition", row->definition)
    .field("status", to_string(l.row.status))
    .field("steps_done", static_cast<std::uint64_t>(l.row.steps_done))
    .field("steps_total", static_cast<std::uint64_t>(l.row.steps_total))
    .field("started", storage::format_timestamp(l.row.started_us))
    .field("updated", storage::format_timestamp(l.row.updated_us))
    .field("last_event", l.last_event)
    .field("events_total", l.row.last_seq);
  if (l.row.expired)
    w.field("expired", true);
  if (!trace_id.empty())
    w.field("trace_id", trace_id);
  if (!input.empty())
    w.raw_field("input", input);
  w.raw_field("steps", steps_json).raw_field("outputs", outputs).raw_field("events", events);
  if (more)
    w.field("next_after_seq", next_after);
  w.finish();
  return done(out);
}

op_result saga_events(actors::engine& e, const std::string& cid, std::uint64_t after_seq,
                      std::uint64_t limit) {
  auto* log = e.log();
  storage::status st = storage::status::ok();
  auto row = log->find_saga(cid, st);
  if (!st)
    return fail(kind::unavailable, st.message());
  if (!row)
    return fail(kind::not_found, "correlation_id: no saga " + cid + " in the log",
                "/correlation_id");
  std::string events = "[";
  std::uint64_t page = 0, next_after = 0;
  bool more = false;
  st = log->read_raw(cid, after_seq + 1, std::numeric_limits<std::uint64_t>::max(),
                     [&](std::uint64_t seq, std::string_view json) {
                       if (page == limit) {
                         more = true;
                         return false;
                       }
                       events += (page++ == 0 ? "" : ",");
                       events += json;
                       next_after = seq;
                       return true;
                     });
  if (!st)
    return fail(kind::unavailable, st.message());
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", cid).raw_field("events", events + "]");
  if (more)
    w.field("next_after_seq", next_after);
  w.finish();
  return done(out);
}

op_result list_sagas(actors::engine& e, const std::optional<std::string>& status,
                     const std::optional<std::string>& saga, std::uint64_t limit_n,
                     const std::optional<std::string>& cursor) {
  auto limit = &limit_n;
  std::optional<storage::saga_status> wanted;
  if (status) {
    wanted = storage::parse_saga_status(*status);
    if (!wanted)
      return fail(kind::bad_request,
                  "status: \"" + *status + "\" is not a status (running, compensating, "
                  "completed, compensated, failed, cancelled)",
                  "/status");
  }
  if (cursor && !cursor->empty() && !storage::valid_correlation_id(*cursor))
    return fail(kind::bad_request, "cursor: not a cursor list_sagas gave", "/cursor");
  auto* log = e.log();
  std::vector<saga_listing> rows;
  bool more = false;
  auto st = log->for_each_saga(
    [&](std::string_view cid, const storage::saga_row& row) {
      if ((wanted && row.status != *wanted) || (saga && row.saga != *saga))
        return true;
      if (rows.size() == *limit) {
        more = true;
        return false;
      }
      rows.push_back({std::string{cid}, row, {}, {}});
      return true;
    },
    cursor ? std::string_view{*cursor} : std::string_view{});
  auto now = storage::now_us();
  std::string list = "[";
  for (auto& l : rows) {
    if (!st)
      break;
    st = complete_listing(*log, l);
    list += (list.size() > 1 ? "," : "") + saga_listing_json(l, now);
  }
  if (!st)
    return fail(kind::unavailable, st.message());
  list += "]";
  std::string out;
  config::json_object_writer w{out};
  w.raw_field("sagas", list);
  if (more)
    w.field("next_cursor", rows.back().cid);
  w.finish();
  return done(out);
}

op_result cancel_saga(actors::engine& e, const std::string& id) {
  auto cid = &id;
  std::string status;
  auto result = e.cancel(*cid, &status);
  if (result == actors::cancel_result::unknown)
    return fail(kind::not_found, "correlation_id: no saga " + *cid + " in the log",
                "/correlation_id");
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", *cid)
    .field("result", result == actors::cancel_result::cancelling ? "cancelling" : "already_ended");
  if (result == actors::cancel_result::already_ended && !status.empty())
    w.field("status", status);
  w.finish();
  return done(out, result == actors::cancel_result::cancelling ? kind::accepted : kind::done);
}

op_result retry_saga(actors::engine& e, const std::string& id) {
  auto cid = &id;
  std::string error;
  if (!e.retry(*cid, error)) {
    storage::status st = storage::status::ok();
    auto row = e.log()->find_saga(*cid, st);
    return fail(!row && st ? kind::not_found : kind::conflict, error,
                !row && st ? "/correlation_id" : "");
  }
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", *cid).field("result", "compensation reopened").field("status",
                                                                                "compensating");
  w.finish();
  return done(out, kind::accepted);
}

namespace {

/// A signal's shape problem, if any.
std::optional<op_result> check_signal(const std::string& cid, const std::string& name) {
  if (!storage::valid_correlation_id(cid))
    return fail(kind::bad_request, "correlation_id: " + storage::correlation_id_problem(cid),
                "/correlation_id");
  if (!config::valid_name(name))
    return fail(kind::bad_request,
                "signal: invalid name \"" + name + "\" (1 to 64 of A-Z a-z 0-9 . _ -)", "/signal");
  return std::nullopt;
}

/// What signal result `r` means for a client.
op_result signalled(const runtime::saga_signal& s, runtime::signal_result r,
                    const std::string& detail) {
  using runtime::signal_result;
  switch (r) {
    case signal_result::stored:
    case signal_result::duplicate:
      return done(signal_json(s, r == signal_result::duplicate));
    case signal_result::unknown:
      return fail(kind::not_found, "correlation_id: no saga " + s.cid + " in the log",
                  "/correlation_id");
    case signal_result::ended:
      return fail(kind::conflict, "saga " + s.cid + " has ended"
                                    + (detail.empty() ? "" : " (" + detail + ")")
                                    + ": no step waits for a signal");
    case signal_result::failed:
      break;
  }
  return fail(kind::unavailable, "the signal was not stored: " + detail);
}

} // namespace

std::string signal_json(const runtime::saga_signal& s, bool duplicate) {
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", s.cid).field("signal", s.name);
  if (!s.id.empty())
    w.field("signal_id", s.id);
  w.field("result", duplicate ? "duplicate" : "stored");
  w.finish();
  return out;
}

op_result signal_saga(actors::engine& e, const runtime::saga_signal& s) {
  if (auto bad = check_signal(s.cid, s.name))
    return *bad;
  std::string detail;
  auto r = e.signal(s, &detail);
  return signalled(s, r, detail);
}

void signal_saga_then(actors::engine& e, runtime::saga_signal s,
                      std::function<void(op_result)> then) {
  if (auto bad = check_signal(s.cid, s.name))
    return then(std::move(*bad));
  auto copy = s;
  e.signal_then(std::move(s), [s = std::move(copy), then = std::move(then)](
                                runtime::signal_result r, const std::string& detail) {
    then(signalled(s, r, detail));
  });
}

op_result breakers(actors::engine& e, const config::workflow& wf,
                   const std::optional<std::string>& resource) {
  auto& only = resource;
  // Every resource a step names, and any other the log has a row for.
  std::map<std::string, std::string> rows;
  for (auto& [_, saga] : wf.sagas)
    for (auto& step : saga.steps)
      if (!step.resource.empty())
        rows[step.resource];
  auto st = e.log()->for_each_breaker(
    [&](std::string_view resource, const storage::breaker_row& row) {
      rows[std::string{resource}] = breaker_json(resource, row);
      return true;
    });
  if (!st)
    return fail(kind::unavailable, st.message());
  if (only && rows.count(*only) == 0)
    return fail(kind::not_found, "resource: no step calls a resource \"" + *only + "\"",
                "/resource");
  std::string list = "[";
  for (auto& [resource, json] : rows) {
    if (only && resource != *only)
      continue;
    std::string one = json;
    if (one.empty()) { // never left closed: nothing recorded yet
      config::json_object_writer w{one};
      w.field("resource", resource).field("state", "closed").field("recorded", false);
      w.finish();
    }
    if (only) { // one breaker: with its last transitions, oldest first
      std::deque<std::string> history;
      st = e.log()->read_raw(storage::breaker_cid(resource), 1,
                             std::numeric_limits<std::uint64_t>::max(),
                             [&](std::uint64_t, std::string_view event) {
                               history.emplace_back(event);
                               if (history.size() > 100)
                                 history.pop_front();
                               return true;
                             });
      if (!st)
        return fail(kind::unavailable, st.message());
      std::string events = "[";
      for (auto& event : history)
        events += (events.size() > 1 ? "," : "") + event;
      one.pop_back(); // the object's closing brace
      one += ",\"history\":" + events + "]}";
    }
    list += (list.size() > 1 ? "," : "") + one;
  }
  list += "]";
  std::string out;
  config::json_object_writer w{out};
  w.raw_field("breakers", list);
  w.finish();
  return done(out);
}

op_result cluster_state(actors::engine& e) {
  auto f = e.replication();
  std::string out;
  config::json_object_writer w{out};
  w.field("node", runtime::log_node())
    .field("role", f.epoch != 0 ? "leader" : "single")
    .field("epoch", f.epoch)
    .field("position", f.written)
    .field("committed", f.committed)
    .raw_field("followers", f.followers);
  w.finish();
  return done(out);
}

op_result stats(actors::engine& e) {
  log_figures f;
  if (auto st = gather_figures(*e.log(), f); !st)
    return fail(kind::unavailable, st.message());
  auto figures = figures_json(f);
  auto run = e.counts();
  std::string engine_counts;
  config::json_object_writer r{engine_counts};
  r.field("started", run.started)
    .field("resumed", run.resumed)
    .field("completed", run.completed)
    .field("compensated", run.compensated)
    .field("failed", run.failed)
    .field("cancelled", run.cancelled)
    .field("not_ended", run.interrupted)
    .field("parked", run.parked);
  r.finish();
  // The log's figures, and this engine's run beside them.
  figures.pop_back();
  figures += ",\"engine\":" + engine_counts + "}";
  return done(figures);
}


} // namespace nexus::app
