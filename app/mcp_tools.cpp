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
#include "app/saga_operations.hpp"
#include "config/definition.hpp"
#include "config/json_writer.hpp"
#include "config/workflow.hpp"
#include "storage/correlation_id.hpp"
#include "storage/event.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

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

  /// The raw JSON of any argument, or "" when absent.
  std::string raw(std::string_view key) const {
    simdjson::dom::element v;
    return object_.at_key(key).get(v) ? std::string{} : simdjson::minify(v);
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

/// A tool's answer from an operation's result: a duplicate start is a
/// failure here (the tool says so, and get_saga shows the saga).
tool_answer answer(op_result r) {
  if (r.ok() && r.what != op_result::kind::duplicate)
    return {false, std::move(r.json)};
  return fail(std::move(r.detail));
}

tool_answer start_saga_tool(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto saga = a.string("saga", error);
  if (!saga)
    return fail(error.empty() ? "saga: missing" : error);
  auto input = a.object("input", error);
  if (!input)
    return fail(error);
  auto cid = a.string("correlation_id", error);
  if (!error.empty())
    return fail(error);
  return answer(start_saga(e, wf, *saga, *input, cid));
}

tool_answer get_saga_tool(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  auto after = a.integer("after_seq", 0, std::numeric_limits<std::int64_t>::max(), 0, error);
  auto limit = a.integer("limit", 1, max_page, default_events_page, error);
  if (!after || !limit)
    return fail(error);
  return answer(get_saga(e, wf, *cid, *after, *limit));
}

tool_answer list_sagas_tool(actors::engine& e, const arguments& a) {
  std::string error;
  auto status = a.string("status", error);
  auto saga = a.string("saga", error);
  auto cursor = a.string("cursor", error);
  auto limit = a.integer("limit", 1, max_page, default_page, error);
  if (!error.empty() || !limit)
    return fail(error);
  return answer(list_sagas(e, status, saga, *limit, cursor));
}

tool_answer on_saga(actors::engine& e, const arguments& a,
                    op_result (*op)(actors::engine&, const std::string&)) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  return answer(op(e, *cid));
}

tool_answer signal_saga_tool(actors::engine& e, const arguments& a) {
  std::string error;
  auto cid = required_cid(a, error);
  if (!cid)
    return fail(error);
  auto name = a.string("signal", error);
  auto id = a.string("signal_id", error);
  if (!error.empty() || !name)
    return fail(error.empty() ? "signal: missing" : error);
  if (id && id->empty())
    return fail("signal_id: must not be empty");
  return answer(signal_saga(e, {*cid, *name, a.raw("data"), id.value_or("")}));
}

tool_answer breaker_status_tool(actors::engine& e, const config::workflow& wf, const arguments& a) {
  std::string error;
  auto only = a.string("resource", error);
  if (!error.empty())
    return fail(error);
  return answer(breakers(e, wf, only));
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
    return parse({"saga", "input", "correlation_id"}) ? start_saga_tool(e, wf, a) : fail(error);
  if (name == "get_saga")
    return parse({"correlation_id", "after_seq", "limit"}) ? get_saga_tool(e, wf, a) : fail(error);
  if (name == "list_sagas")
    return parse({"status", "saga", "limit", "cursor"}) ? list_sagas_tool(e, a) : fail(error);
  if (name == "cancel_saga")
    return parse({"correlation_id"}) ? on_saga(e, a, cancel_saga) : fail(error);
  if (name == "signal_saga")
    return parse({"correlation_id", "signal", "data", "signal_id"}) ? signal_saga_tool(e, a)
                                                                   : fail(error);
  if (name == "retry_saga")
    return parse({"correlation_id"}) ? on_saga(e, a, retry_saga) : fail(error);
  if (name == "breaker_status")
    return parse({"resource"}) ? breaker_status_tool(e, wf, a) : fail(error);
  if (name == "stats")
    return parse({}) ? answer(stats(e)) : fail(error);
  return fail("unknown tool \"" + std::string{name} + "\"");
}

} // namespace nexus::app
