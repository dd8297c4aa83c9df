#include "config/input_line.hpp"

#include "config/trace_context.hpp"

#include <simdjson.h>

#include "config/json_syntax.hpp"
#include "config/workflow_loader.hpp"

namespace nexus::config {

bool parse_input_line(std::string_view line, saga_request& out, std::string& error) {
  using namespace simdjson;
  thread_local dom::parser parser;
  dom::element doc;
  if (auto e = parser.parse(line.data(), line.size()).get(doc)) {
    // simdjson says what is wrong; a second pass says where.
    json_syntax_error at;
    if (find_json_syntax_error(line, at))
      error = "invalid JSON at column " + std::to_string(at.column) + ": " + at.message;
    else // JSON, but not what simdjson can take: too deep, a number too large
      error = std::string{"cannot take this JSON: "} + error_message(e);
    return false;
  }
  dom::object obj;
  if (doc.get_object().get(obj)) {
    error = "expected a JSON object";
    return false;
  }
  out = saga_request{};
  out.input_compact = true; // "{}", or the minified object below
  bool has_saga = false, has_input = false, has_signal_keys = false, has_trace = false;
  for (auto field : obj) {
    std::string_view s;
    if (field.key == "signal" || field.key == "signal_id") {
      if (field.value.get_string().get(s)) {
        error = std::string{field.key} + ": expected a string";
        return false;
      }
      (field.key == "signal" ? out.signal : out.signal_id).assign(s);
      if (field.key == "signal" && !valid_name(out.signal)) {
        error = "signal: invalid name \"" + out.signal + "\" (1 to 64 of A-Z a-z 0-9 . _ -)";
        return false;
      }
      if (field.key == "signal_id" && out.signal_id.empty()) {
        error = "signal_id: must not be empty";
        return false;
      }
      has_signal_keys = true;
    } else if (field.key == "data") {
      out.data = simdjson::minify(field.value);
      has_signal_keys = true;
    } else if (field.key == "cancel") {
      if (field.value.get_string().get(s)) {
        error = "cancel: expected the correlation ID of the saga to cancel";
        return false;
      }
      out.cancel = true;
      out.correlation_id.assign(s);
      out.correlation_id_given = true;
    } else if (field.key == "saga" || field.key == "correlation_id") {
      if (field.value.get_string().get(s)) {
        error = std::string{field.key} + ": expected a string";
        return false;
      }
      (field.key == "saga" ? out.saga : out.correlation_id).assign(s);
      has_saga = has_saga || field.key == "saga";
      out.correlation_id_given = out.correlation_id_given || field.key == "correlation_id";
    } else if (field.key == "traceparent" || field.key == "tracestate") {
      if (field.value.get_string().get(s)) {
        error = std::string{field.key} + ": expected a string";
        return false;
      }
      bool parent = field.key == "traceparent";
      if (parent ? !parse_traceparent(s) : !valid_tracestate(s)) {
        error = parent ? "traceparent: \"" + std::string{s}
                           + "\" is not a W3C traceparent (00-<32 hex trace-id>-<16 hex "
                             "parent-id>-<2 hex flags>, lower case, IDs not all zero)"
                       : "tracestate: at most 512 printable ASCII characters";
        return false;
      }
      (parent ? out.traceparent : out.tracestate).assign(s);
      has_trace = true;
    } else if (field.key == "input") {
      if (!field.value.is_object()) {
        error = "input: expected a JSON object";
        return false;
      }
      out.input = simdjson::minify(field.value);
      has_input = true;
    } else {
      error = "unknown key \"" + std::string{field.key}
              + "\" (expected saga, correlation_id, input, traceparent, tracestate; or cancel; "
                "or signal, correlation_id, data, signal_id)";
      return false;
    }
  }
  if (has_signal_keys) {
    const char* why = out.signal.empty() ? "signal: missing (data and signal_id belong to a signal line)"
                      : has_saga || has_input || has_trace || out.cancel
                        ? "a signal line has signal, correlation_id, and optionally data and signal_id"
                      : out.correlation_id.empty() ? "correlation_id: missing: a signal goes to one saga"
                                                   : nullptr;
    if (why != nullptr)
      error = why;
    return why == nullptr;
  }
  if (!out.tracestate.empty() && out.traceparent.empty()) {
    error = "tracestate: given without a traceparent";
    return false;
  }
  if (out.cancel && (has_saga || obj.size() != 1)) {
    error = "a cancel line has the one key cancel";
    return false;
  }
  if (!has_saga && !out.cancel) {
    error = "saga: missing";
    return false;
  }
  return true;
}

} // namespace nexus::config
