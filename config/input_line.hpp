#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nexus::config {

/// One line of a `--input` file: `{"saga": NAME, "correlation_id": CID,
/// "input": {...}}`, where `correlation_id` and `input` may be left out; or
/// `{"cancel": CID}`, which cancels a running saga; or `{"signal": NAME,
/// "correlation_id": CID, "data": ..., "signal_id": ...}` (data and
/// signal_id optional), a signal for a saga's `wait` steps.
struct saga_request {
  bool cancel = false;        ///< A cancellation of `correlation_id`, not a start.
  std::string signal;         ///< A signal of this name to `correlation_id`, not a start.
  std::string data;           ///< The signal's data: raw JSON, "" for none.
  std::string signal_id;      ///< The signal's ID for deduplication, "" for none.
  std::string saga;
  std::string correlation_id; ///< Empty when not given: the runtime makes one.
  bool correlation_id_given = false; ///< The key was present (even if empty).
  std::string input = "{}";   ///< Raw JSON object.
  /// `input` is known to be an object already minified (as parse_input_line
  /// leaves it). Not sent between nodes: a request from elsewhere is checked.
  bool input_compact = false;
  std::uint64_t line = 0;     ///< Its line in the input file; 0 when it came from elsewhere.
  /// A start's W3C trace context (config/trace_context.hpp): the caller's
  /// `traceparent`, checked, and its `tracestate`; empty: none (the saga
  /// starts a trace of its own).
  std::string traceparent;
  std::string tracestate;
};

/// Parses one input line; on failure returns false and says why (without
/// the line number, which the caller knows).
bool parse_input_line(std::string_view line, saga_request& out, std::string& error);

} // namespace nexus::config
