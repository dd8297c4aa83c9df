#include "app/mcp_tools.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <simdjson.h>

#include "actors/engine.hpp"
#include "app/log_queries.hpp"
#include "config/json_writer.hpp"
#include "config/workflow.hpp"
#include "storage/correlation_id.hpp"
#include "storage/event.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

constexpr std::uint64_t default_page = 50;
constexpr std::uint64_t default_events_page = 100;
constexpr std::uint64_t max_page = 1000;

// -- arguments -------------------------------------------------------------------

/// A tool's arguments, checked against the names it takes.
class arguments {
public:
  bool parse(std::string_view text, std::initializer_list<std::string_view> allowed,
             std::string& error) {
    if (text.empty())
      text = "{}";
    simdjson::dom::element doc;
    if (parser_.parse(text.data(), text.size()).get(doc) || doc.get_object().get(object_)) {
      error = "arguments: expected a JSON object";
      return false;
    }
    for (auto field : object_) {
      bool known = false;
      for (auto a : allowed)
        known = known || field.key == a;
      if (!known) {
        error = "unknown argument \"" + std::string{field.key} + "\" (expected ";
        bool first = true;
        for (auto a : allowed) {
          error += (first ? "" : ", ") + std::string{a};
          first = false;
        }
        error += allowed.size() == 0 ? "none)" : ")";
        return false;
      }
    }
    return true;
  }

  /// A string argument: absent (nullopt, no error) or a string.
  std::optional<std::string> string(std::string_view key, std::string& error) const {
    simdjson::dom::element v;
    if (object_.at_key(key).get(v))
      return std::nullopt;
    std::string_view s;
    if (v.get_string().get(s)) {
      error = std::string{key} + ": expected a string";
      return std::nullopt;
    }
    return std::string{s};
  }

  /// An integer argument in [lo, hi], or `fallback` when absent.
  std::optional<std::uint64_t> integer(std::string_view key, std::uint64_t lo, std::uint64_t hi,
                                       std::uint64_t fallback, std::string& error) const {
    simdjson::dom::element v;
    if (object_.at_key(key).get(v))
      return fallback;
    std::uint64_t n = 0;
    double d = 0;
    if (v.get_uint64().get(n)) {
      // 5.0 is an integer too, as JSON Schema counts.
      if (v.get_double().get(d) || d < 0 || d != static_cast<double>(static_cast<std::uint64_t>(d))) {
        error = std::string{key} + ": expected a whole number from " + std::to_string(lo) + " to "
                + std::to_string(hi);
        return std::nullopt;
      }
      n = static_cast<std::uint64_t>(d);
    }
    if (n < lo || n > hi) {
      error = std::string{key} + ": " + std::to_string(n) + " is out of range (" + std::to_string(lo)
              + " to " + std::to_string(hi) + ")";
      return std::nullopt;
    }
    return n;
  }

  /// The raw JSON of an object argument, or "{}" when absent.
  std::optional<std::string> object(std::string_view key, std::string& error) const {
    simdjson::dom::element v;
    if (object_.at_key(key).get(v))
      return std::string{"{}"};
    if (!v.is_object()) {
      error = std::string{key} + ": expected a JSON object";
      return std::nullopt;
    }
    return simdjson::minify(v);
  }

private:
  simdjson::dom::parser parser_;
  simdjson::dom::object object_;
};

tool_answer fail(std::string why) {
  return {true, std::move(why)};
}

/// A correlation ID's argument, required and checked.
std::optional<std::string> required_cid(const arguments& a, std::string& error) {
  auto cid = a.string("correlation_id", error);
  if (!cid) {
    if (error.empty())
      error = "correlation_id: missing";
    return std::nullopt;
  }
  if (!storage::valid_correlation_id(*cid)) {
    error = "correlation_id: " + storage::correlation_id_problem(*cid);
    return std::nullopt;
  }
  return cid;
}

// -- the tools -------------------------------------------------------------------

/// A correlation ID for a start that gave none: unique in this process, and
/// across processes by the time it was made.
std::string made_up_cid() {
  static std::atomic<std::uint64_t> made{0};
  return "mcp-" + std::to_string(storage::now_us()) + "-" + std::to_string(++made);
}

tool_answer start_saga(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto saga = a.string("saga", error);
  if (!saga)
    return fail(error.empty() ? "saga: missing" : error);
  if (wf.find_saga(*saga) == nullptr) {
    std::string names;
    for (auto& [name, _] : wf.sagas)
      names += (names.empty() ? "" : ", ") + name;
    return fail("saga: the workflow has no saga named \"" + *saga + "\" (it has " + names + ")");
  }
  auto input = a.object("input", error);
  if (!input)
    return fail(error);
  auto cid = a.string("correlation_id", error);
  if (!error.empty())
    return fail(error);
  bool made_up = !cid;
  if (made_up)
    cid = made_up_cid();
  auto result = e.start(*saga, *cid, *input);
  for (int tries = 0; made_up && result == actors::start_result::duplicate && tries < 3; ++tries)
    result = e.start(*saga, *(cid = made_up_cid()), *input);
  switch (result) {
    case actors::start_result::started: {
      std::string out;
      config::json_object_writer w{out};
      w.field("correlation_id", *cid).field("saga", *saga).field("status", "running");
      w.finish();
      return {false, out};
    }
    case actors::start_result::duplicate:
      return fail("correlation_id: " + *cid + " is already in the log: a saga is never started "
                  "twice (see get_saga)");
    case actors::start_result::bad_id:
      return fail("correlation_id: " + storage::correlation_id_problem(*cid));
    case actors::start_result::bad_input:
      return fail("input: expected a JSON object");
    case actors::start_result::unknown_saga:
      return fail("saga: the workflow has no saga named \"" + *saga + "\"");
    case actors::start_result::closed:
    case actors::start_result::refused:
      break;
  }
  return fail("the engine is stopping: it takes no more sagas");
}

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

tool_answer get_saga(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  auto after = a.integer("after_seq", 0, std::numeric_limits<std::int64_t>::max(), 0, error);
  auto limit = a.integer("limit", 1, max_page, default_events_page, error);
  if (!after || !limit)
    return fail(error);
  auto* log = e.log();
  storage::status st = storage::status::ok();
  auto row = log->find_saga(*cid, st);
  if (!st)
    return fail(st.message());
  if (!row)
    return fail("correlation_id: no saga " + *cid + " in the log (list_sagas lists them)");
  saga_listing l{*cid, *row, {}};
  if (st = complete_listing(*log, l); !st)
    return fail(st.message());

  std::map<std::string, step_state> steps;
  std::string input, events = "[";
  std::uint64_t page = 0, next_after = 0;
  bool more = false;
  storage::event ev;
  st = log->read_raw(*cid, 1, std::numeric_limits<std::uint64_t>::max(),
                     [&](std::uint64_t seq, std::string_view json) {
                       if (!storage::decode_event(json, ev, error))
                         return false;
                       fold(steps, ev);
                       if (ev.type == storage::event_type::saga_started)
                         input = ev.input;
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
    return fail(st.message());
  if (!error.empty())
    return fail("saga " + *cid + ": an unreadable event: " + error);
  events += "]";

  // Every step of its definition, in order, those not reached as pending.
  std::vector<std::string> order;
  if (auto* spec = wf.find_saga(row->saga))
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
  if (!input.empty())
    w.raw_field("input", input);
  w.raw_field("steps", steps_json).raw_field("outputs", outputs).raw_field("events", events);
  if (more)
    w.field("next_after_seq", next_after);
  w.finish();
  return {false, out};
}

tool_answer list_sagas(actors::engine& e, const arguments& a) {
  std::string error;
  auto status = a.string("status", error);
  auto saga = a.string("saga", error);
  auto cursor = a.string("cursor", error);
  auto limit = a.integer("limit", 1, max_page, default_page, error);
  if (!error.empty() || !limit)
    return fail(error);
  std::optional<storage::saga_status> wanted;
  if (status) {
    wanted = storage::parse_saga_status(*status);
    if (!wanted)
      return fail("status: \"" + *status + "\" is not a status (running, compensating, completed, "
                  "compensated, failed, cancelled)");
  }
  if (cursor && !cursor->empty() && !storage::valid_correlation_id(*cursor))
    return fail("cursor: not a cursor list_sagas gave");
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
      rows.push_back({std::string{cid}, row, {}});
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
    return fail(st.message());
  list += "]";
  std::string out;
  config::json_object_writer w{out};
  w.raw_field("sagas", list);
  if (more)
    w.field("next_cursor", rows.back().cid);
  w.finish();
  return {false, out};
}

tool_answer cancel_saga(actors::engine& e, const arguments& a) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  std::string status;
  auto result = e.cancel(*cid, &status);
  if (result == actors::cancel_result::unknown)
    return fail("correlation_id: no saga " + *cid + " in the log");
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", *cid)
    .field("result", result == actors::cancel_result::cancelling ? "cancelling" : "already_ended");
  if (result == actors::cancel_result::already_ended && !status.empty())
    w.field("status", status);
  w.finish();
  return {false, out};
}

tool_answer retry_saga(actors::engine& e, const arguments& a) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  if (!e.retry(*cid, error))
    return fail(error);
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", *cid).field("result", "compensation reopened").field("status",
                                                                                "compensating");
  w.finish();
  return {false, out};
}

tool_answer breaker_status(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto only = a.string("resource", error);
  if (!error.empty())
    return fail(error);
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
    return fail(st.message());
  if (only && rows.count(*only) == 0)
    return fail("resource: no step calls a resource \"" + *only + "\"");
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
    list += (list.size() > 1 ? "," : "") + one;
  }
  list += "]";
  std::string out;
  config::json_object_writer w{out};
  w.raw_field("breakers", list);
  w.finish();
  return {false, out};
}

tool_answer stats(actors::engine& e) {
  log_figures f;
  if (auto st = gather_figures(*e.log(), f); !st)
    return fail(st.message());
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
    .field("not_ended", run.interrupted);
  r.finish();
  // The log's figures, and this engine's run beside them.
  figures.pop_back();
  figures += ",\"engine\":" + engine_counts + "}";
  return {false, figures};
}

} // namespace

tool_answer run_mcp_tool(actors::engine& e, const config::workflow& wf, std::string_view name,
                         std::string_view text) {
  if (e.log() == nullptr)
    return fail("the engine has no event log: " + e.error());
  arguments a;
  std::string error;
  auto parse = [&](std::initializer_list<std::string_view> allowed) {
    return a.parse(text, allowed, error);
  };
  if (name == "start_saga")
    return parse({"saga", "input", "correlation_id"}) ? start_saga(e, wf, a) : fail(error);
  if (name == "get_saga")
    return parse({"correlation_id", "after_seq", "limit"}) ? get_saga(e, wf, a) : fail(error);
  if (name == "list_sagas")
    return parse({"status", "saga", "limit", "cursor"}) ? list_sagas(e, a) : fail(error);
  if (name == "cancel_saga")
    return parse({"correlation_id"}) ? cancel_saga(e, a) : fail(error);
  if (name == "retry_saga")
    return parse({"correlation_id"}) ? retry_saga(e, a) : fail(error);
  if (name == "breaker_status")
    return parse({"resource"}) ? breaker_status(e, wf, a) : fail(error);
  if (name == "stats")
    return parse({}) ? stats(e) : fail(error);
  return fail("unknown tool \"" + std::string{name} + "\"");
}

} // namespace nexus::app
