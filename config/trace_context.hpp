#pragma once

// W3C Trace Context (https://www.w3.org/TR/trace-context/), level 1: the
// `traceparent` header's parts, read and written. Hand-written: Debian ships
// no OpenTelemetry C++ SDK, and the format is four fixed-width hex fields.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nexus::config {

/// Where a span stands in a trace: the trace's ID, the span's own, its
/// parent's (0: a root), and the trace flags (bit 0: sampled).
struct trace_context {
  std::array<std::uint8_t, 16> trace{}; ///< All zero: none.
  std::uint64_t span = 0;
  std::uint64_t parent = 0;
  std::uint8_t flags = 1;

  bool valid() const;
  /// 32 lower-case hex digits.
  std::string trace_hex() const;
  /// `traceparent` for a call made within span `child` of this trace:
  /// `00-<trace>-<child>-<flags>`.
  std::string traceparent(std::uint64_t child) const;
};

/// 16 lower-case hex digits; "" for 0 (no span).
std::string span_hex(std::uint64_t span);

/// The span ID `hex` (16 hex digits, not all zero); none if it is not one.
std::optional<std::uint64_t> parse_span_id(std::string_view hex);

/// The trace ID `hex` (32 hex digits, not all zero); none if it is not one.
std::optional<std::array<std::uint8_t, 16>> parse_trace_id(std::string_view hex);

/// A `traceparent` value: its trace ID, its parent-id (as `span`) and flags;
/// none if it is malformed (the spec then says to start a new trace).
/// Version 00 must be exactly 55 characters; a later version may carry
/// more fields after a dash, which are ignored; version ff is invalid.
std::optional<trace_context> parse_traceparent(std::string_view value);

/// Whether `value` is a `tracestate` to pass on: at most 512 characters of
/// printable ASCII, as the spec bounds it (its list members are not
/// checked: it is passed on as given).
bool valid_tracestate(std::string_view value);

/// The span of attempt `attempt` of `step` (or of its compensation) in the
/// saga whose span is `saga_span`: a hash of them, never 0, the same on
/// every replay of the saga's log, so that its log lines, the headers its
/// calls send and the spans it exports agree on it.
std::uint64_t attempt_span(std::uint64_t saga_span, std::string_view step, std::uint32_t attempt,
                           bool compensation);

/// A trace ID from its two halves (big-endian: `hi` is its first 8 bytes),
/// and the halves of one.
std::array<std::uint8_t, 16> trace_id_of(std::uint64_t hi, std::uint64_t lo);
void halves_of(const std::array<std::uint8_t, 16>& id, std::uint64_t& hi, std::uint64_t& lo);

/// Random IDs, never zero, from a generator per thread.
std::uint64_t new_span_id();
std::array<std::uint8_t, 16> new_trace_id();

} // namespace nexus::config
