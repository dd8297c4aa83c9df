#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/error_kind.hpp"

namespace nexus::storage {

/// Version of the event JSON below, stored in every event as `v`. 2 added
/// `definition` (saga_started names the definition its saga runs on) and
/// definition_changed; a version-1 saga_started names none, and its saga
/// runs on the workflow's definition of its name, as it did then. Waiting
/// (signal_received, step_waiting, and the fields `signal`, `signal_id`,
/// `data`, `wake_at`) came without a new version: no old reader misreads
/// them, since one refuses an event type it does not know and skips fields.
constexpr int event_schema_version = 2;
/// The oldest version this reader takes.
constexpr int oldest_event_schema_version = 1;

/// What happened. Persisted by name (`type`): changing a name breaks recovery.
enum class event_type : std::uint8_t {
  saga_started,
  step_started,
  step_succeeded,
  step_failed,
  step_retry_scheduled,
  compensation_started,
  compensation_succeeded,
  compensation_failed,
  saga_completed,
  saga_compensated,
  saga_failed,
  saga_cancelled,
  breaker_opened,
  breaker_half_open,
  breaker_closed,
  // Appended after the first fifteen: names are persisted, the order is not.
  cancel_requested, ///< The saga was asked to stop: it starts nothing new and rolls back.
  retry_requested,  ///< An operator reopened a `failed` saga's compensation.
  definition_changed, ///< `nexus migrate` moved the saga to another definition (schema 2).
  signal_received, ///< A signal for the saga is durable: kept until a `wait` consumes it.
  step_waiting,    ///< A `sleep` or `wait` attempt waits until `wake_at` (or its signal).
};

std::string_view to_string(event_type t);
std::optional<event_type> parse_event_type(std::string_view name);

/// One entry of the event log.
///
/// Persisted as one JSON object (see encode_event): changing a field's name
/// or meaning breaks recovery; add fields rather than change them, and bump
/// event_schema_version when an old reader could misread a new event.
///
///   v                schema version (2; 1 before definitions)
///   seq              per-saga sequence number, from 1, no gaps
///   ts               RFC 3339 UTC with microseconds
///   cid              correlation ID
///   type             event_type name
///   saga             saga definition name
///   definition       hash of the definition the saga runs on (saga_started),
///                    or moves to (definition_changed)
///   from             the definition it leaves (definition_changed)
///   step             step name (step and compensation events)
///   attempt          attempt number, from 1
///   idempotency_key  `<cid>/<step>` or `<cid>/<step>/compensate`
///   compensation     true on step_retry_scheduled of a compensation
///   error_kind       config::error_kind name (failed events)
///   message          error message, or why the saga ended
///   input            the saga's input JSON (saga_started)
///   output           the step's output JSON (step_succeeded)
///   retry_at         RFC 3339 time of the next attempt (step_retry_scheduled),
///                    or at which an opened breaker lets trial calls through
///   failure_rate     breaker events: the window's failure rate in percent
///   slow_call_rate   breaker events: the window's slow-call rate in percent
///   calls            breaker events: the calls those rates were taken over
///   signal           the signal's name (signal_received; step_waiting and
///                    step_succeeded of a `wait` step)
///   signal_id        the sender's ID of a signal, for deduplication
///   data             the signal's data, any JSON (signal_received)
///   wake_at          RFC 3339 time a waiting step wakes: a sleep's end, or a
///                    wait's timeout (step_waiting)
///   trace_id         W3C trace ID of the saga's trace, 32 hex (saga_started)
///   span_id          the saga's own span in it, 16 hex (saga_started)
///   parent_span_id   the caller's span it continues, 16 hex (saga_started,
///                    when the start carried a traceparent)
///   trace_flags      the trace flags, 2 hex (saga_started)
///   tracestate       the caller's tracestate, passed on (saga_started)
/// (The trace fields came without a new version: an old reader skips them.)
struct event {
  std::uint64_t seq = 0;
  std::int64_t ts_us = 0;
  std::string cid;
  event_type type = event_type::saga_started;
  std::string saga;
  std::string definition;      ///< saga_started, definition_changed: a hash.
  std::string from_definition; ///< definition_changed: the hash it leaves.
  std::string step;
  std::uint32_t attempt = 0;
  std::string idempotency_key;
  bool compensation = false;
  std::optional<config::error_kind> error;
  std::string message;
  std::string input;   ///< Raw JSON, or empty.
  std::string output;  ///< Raw JSON, or empty.
  std::int64_t retry_at_us = 0; ///< 0: none.
  double failure_rate = -1;     ///< Breaker events; -1: not known (too few calls).
  double slow_call_rate = -1;   ///< Breaker events; -1: not known.
  std::uint32_t calls = 0;      ///< Breaker events.
  std::string signal;           ///< A signal's name.
  std::string signal_id;        ///< A signal's ID from its sender, or empty.
  std::string data;             ///< A signal's data: raw JSON, or empty.
  std::int64_t wake_at_us = 0;  ///< step_waiting: when it wakes; 0: none.
  std::string trace_id;         ///< saga_started: hex, or empty (none).
  std::string span_id;
  std::string parent_span_id;
  std::string trace_flags;
  std::string tracestate;
};

/// Whether `t` is a circuit breaker's transition.
bool is_breaker_event(event_type t);

/// Appends the persisted JSON of `e` to `out`.
void encode_event(const event& e, std::string& out);

/// Parses persisted event JSON; on failure returns false and says why.
bool decode_event(std::string_view json, event& e, std::string& error);

/// Whether a saga that has logged `t` has reached its end.
bool is_terminal(event_type t);

} // namespace nexus::storage
