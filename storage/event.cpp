#include "storage/event.hpp"

#include <utility>

#include <simdjson.h>

#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

namespace {

constexpr std::string_view type_names[] = {
  "saga_started",           "step_started",        "step_succeeded",    "step_failed",
  "step_retry_scheduled",   "compensation_started", "compensation_succeeded",
  "compensation_failed",    "saga_completed",      "saga_compensated",  "saga_failed",
  "saga_cancelled",         "breaker_opened",      "breaker_half_open", "breaker_closed",
  "cancel_requested",       "retry_requested",     "definition_changed",
  "signal_received",        "step_waiting",
};

} // namespace

std::string_view to_string(event_type t) {
  return type_names[static_cast<size_t>(t)];
}

std::optional<event_type> parse_event_type(std::string_view name) {
  for (size_t i = 0; i < std::size(type_names); ++i)
    if (type_names[i] == name)
      return static_cast<event_type>(i);
  return std::nullopt;
}

bool is_breaker_event(event_type t) {
  return t == event_type::breaker_opened || t == event_type::breaker_half_open
         || t == event_type::breaker_closed;
}

bool is_terminal(event_type t) {
  return t == event_type::saga_completed || t == event_type::saga_compensated
         || t == event_type::saga_failed || t == event_type::saga_cancelled;
}

void encode_event(const event& e, std::string& out) {
  config::json_object_writer w{out};
  w.field("v", event_schema_version)
    .field("seq", e.seq)
    .field("ts", format_timestamp(e.ts_us))
    .field("cid", e.cid)
    .field("type", to_string(e.type));
  if (!e.saga.empty())
    w.field("saga", e.saga);
  if (!e.definition.empty())
    w.field("definition", e.definition);
  if (!e.from_definition.empty())
    w.field("from", e.from_definition);
  if (!e.step.empty())
    w.field("step", e.step);
  if (e.attempt > 0)
    w.field("attempt", static_cast<std::uint64_t>(e.attempt));
  if (!e.idempotency_key.empty())
    w.field("idempotency_key", e.idempotency_key);
  if (e.compensation)
    w.field("compensation", true);
  if (e.error)
    w.field("error_kind", config::to_string(*e.error));
  if (!e.message.empty())
    w.field("message", e.message);
  if (!e.input.empty())
    w.raw_field("input", e.input);
  if (!e.output.empty())
    w.raw_field("output", e.output);
  if (e.retry_at_us != 0)
    w.field("retry_at", format_timestamp(e.retry_at_us));
  if (!e.signal.empty())
    w.field("signal", e.signal);
  if (!e.signal_id.empty())
    w.field("signal_id", e.signal_id);
  if (!e.data.empty())
    w.raw_field("data", e.data);
  if (e.wake_at_us != 0)
    w.field("wake_at", format_timestamp(e.wake_at_us));
  std::pair<const char*, const std::string*> trace[] = {{"trace_id", &e.trace_id},
                                                       {"span_id", &e.span_id},
                                                       {"parent_span_id", &e.parent_span_id},
                                                       {"trace_flags", &e.trace_flags},
                                                       {"tracestate", &e.tracestate}};
  for (auto& [name, value] : trace)
    if (!value->empty())
      w.field(name, *value);
  if (is_breaker_event(e.type))
    w.field("failure_rate", e.failure_rate)
      .field("slow_call_rate", e.slow_call_rate)
      .field("calls", static_cast<std::uint64_t>(e.calls));
  w.finish();
}

bool decode_event(std::string_view json, event& e, std::string& error) {
  using namespace simdjson;
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) {
    error = std::string{"invalid event JSON: "} + error_message(err);
    return false;
  }
  dom::object obj;
  if (doc.get_object().get(obj)) {
    error = "event is not a JSON object";
    return false;
  }
  e = event{};
  bool has_v = false, has_seq = false, has_ts = false, has_type = false;
  for (auto field : obj) {
    auto key = field.key;
    auto val = field.value;
    std::string_view s;
    std::uint64_t u = 0;
    if (key == "v") {
      if (val.get_uint64().get(u) || u < oldest_event_schema_version
          || u > event_schema_version) {
        error = "unsupported event schema version (this reader takes "
                + std::to_string(oldest_event_schema_version) + " to "
                + std::to_string(event_schema_version) + ")";
        return false;
      }
      has_v = true;
    } else if (key == "seq") {
      if (val.get_uint64().get(e.seq)) {
        error = "seq is not a whole number";
        return false;
      }
      has_seq = true;
    } else if (key == "ts" || key == "retry_at" || key == "wake_at") {
      std::optional<std::int64_t> t;
      if (val.get_string().get(s) == SUCCESS)
        t = parse_timestamp(s);
      if (!t) {
        error = std::string{key} + " is not an RFC 3339 UTC timestamp";
        return false;
      }
      (key == "ts" ? e.ts_us : key == "retry_at" ? e.retry_at_us : e.wake_at_us) = *t;
      has_ts = has_ts || key == "ts";
    } else if (key == "type") {
      std::optional<event_type> t;
      if (val.get_string().get(s) == SUCCESS)
        t = parse_event_type(s);
      if (!t) {
        error = "unknown event type";
        return false;
      }
      e.type = *t;
      has_type = true;
    } else if (key == "error_kind") {
      std::optional<config::error_kind> k;
      if (val.get_string().get(s) == SUCCESS)
        k = config::parse_error_kind(s);
      if (!k) {
        error = "unknown error_kind";
        return false;
      }
      e.error = k;
    } else if (key == "attempt") {
      if (val.get_uint64().get(u) || u > UINT32_MAX) {
        error = "attempt is not a whole number";
        return false;
      }
      e.attempt = static_cast<std::uint32_t>(u);
    } else if (key == "compensation") {
      if (val.get_bool().get(e.compensation)) {
        error = "compensation is not a boolean";
        return false;
      }
    } else if (key == "failure_rate" || key == "slow_call_rate") {
      if (val.get_double().get(key == "failure_rate" ? e.failure_rate : e.slow_call_rate)) {
        error = std::string{key} + " is not a number";
        return false;
      }
    } else if (key == "calls") {
      if (val.get_uint64().get(u) || u > UINT32_MAX) {
        error = "calls is not a whole number";
        return false;
      }
      e.calls = static_cast<std::uint32_t>(u);
    } else if (key == "input" || key == "output" || key == "data") {
      (key == "input" ? e.input : key == "output" ? e.output : e.data) = simdjson::minify(val);
    } else {
      std::string* target = key == "cid"               ? &e.cid
                            : key == "saga"            ? &e.saga
                            : key == "definition"      ? &e.definition
                            : key == "from"            ? &e.from_definition
                            : key == "step"            ? &e.step
                            : key == "idempotency_key" ? &e.idempotency_key
                            : key == "message"         ? &e.message
                            : key == "signal"          ? &e.signal
                            : key == "signal_id"       ? &e.signal_id
                            : key == "trace_id"        ? &e.trace_id
                            : key == "span_id"         ? &e.span_id
                            : key == "parent_span_id"  ? &e.parent_span_id
                            : key == "trace_flags"     ? &e.trace_flags
                            : key == "tracestate"      ? &e.tracestate
                                                       : nullptr;
      if (target == nullptr)
        continue; // a field from a newer writer that this reader does not need
      if (val.get_string().get(s)) {
        error = std::string{key} + " is not a string";
        return false;
      }
      target->assign(s);
    }
  }
  if (!has_v || !has_seq || !has_ts || !has_type || e.cid.empty()) {
    error = "event lacks one of v, seq, ts, type, cid";
    return false;
  }
  return true;
}

} // namespace nexus::storage
