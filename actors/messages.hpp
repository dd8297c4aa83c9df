#pragma once

// The message vocabulary of Nexus actors. Every type that may cross a node
// boundary has an `inspect` overload and is registered by name in
// register_message_types(); local-only types are marked as such.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "config/trace_context.hpp"
#include "config/error_kind.hpp"
#include "config/input_line.hpp"
#include "runtime/outcome.hpp"
#include "runtime/run_summary.hpp"
#include "storage/event_log.hpp"

namespace caf {
class actor_system_config;
}

namespace nexus {

using ack_atom = caf::atom_constant<caf::atom("ack")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using done_atom = caf::atom_constant<caf::atom("done")>;
using execute_atom = caf::atom_constant<caf::atom("execute")>;
/// A retention sweep is due.
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// An open breaker's open time is up: it may let trial calls through.
using half_open_atom = caf::atom_constant<caf::atom("half_open")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
/// A simulated attempt's latency is over.
using latency_atom = caf::atom_constant<caf::atom("latency")>;
using park_atom = caf::atom_constant<caf::atom("park")>;
using pressure_atom = caf::atom_constant<caf::atom("pressure")>;
using query_atom = caf::atom_constant<caf::atom("query")>;
using read_atom = caf::atom_constant<caf::atom("read")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using report_atom = caf::atom_constant<caf::atom("report")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
/// Reopen a failed saga's compensation (to the coordinator).
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// A saga's retry timer has fired: the next attempt of a step is due.
using retry_due_atom = caf::atom_constant<caf::atom("retry_due")>;
using signal_atom = caf::atom_constant<caf::atom("signal")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
/// What an actor has done so far: its counts (the writer's, a stage's, the coordinator's).
using stats_atom = caf::atom_constant<caf::atom("stats")>;
/// What a breaker is now: closed, open or half_open.
using state_atom = caf::atom_constant<caf::atom("state")>;
/// How many nodes have joined a cluster's dispatcher.
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
/// Written batches' acknowledgements, handed to the log's syncer.
using sync_atom = caf::atom_constant<caf::atom("sync")>;
/// The progress poller's period is over.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;

/// One attempt of a step or of its compensation, sent to the step's stage.
struct step_call {
  std::string cid;
  std::string saga;
  std::string step;
  std::uint32_t attempt = 0;
  bool compensate = false;
  std::string input; ///< JSON.
  /// Wall-clock time (microseconds since the epoch) at which the attempt has
  /// timed out; a worker that gets the call later does not start it.
  std::int64_t deadline_us = 0;
  /// The id of the definition the saga runs on (config::saga_spec::id):
  /// the stage runs the action that definition gives the step, whatever
  /// the workflow file now says. 0: the stage's own step (tests, benches).
  std::uint64_t definition = 0;
  /// The attempt's W3C trace context: the saga's trace (its ID in two
  /// halves), the attempt's own span and the flags, kept as numbers (no
  /// allocation a step; traceparent() writes the header where a step
  /// sends one); `tracestate` is the saga's caller's, passed on. A span of
  /// 0: none (tests, benches).
  std::uint64_t trace_hi = 0, trace_lo = 0, span = 0;
  std::uint8_t trace_flags = 0;
  std::string tracestate;
  /// When the saga sent it (microseconds since the epoch), echoed in the
  /// answer: the start of the attempt's span. 0: not known.
  std::int64_t sent_us = 0;

  /// Puts the attempt in trace `t` as span `attempt_span`.
  void set_trace(const config::trace_context& t, std::uint64_t attempt_span) {
    config::halves_of(t.trace, trace_hi, trace_lo);
    span = attempt_span;
    trace_flags = t.flags;
  }

  /// The attempt's trace context, its span the attempt's.
  config::trace_context trace() const {
    config::trace_context t;
    t.trace = config::trace_id_of(trace_hi, trace_lo);
    t.span = span;
    t.flags = trace_flags;
    return t;
  }

  /// The `traceparent` header of the attempt, "" without a span.
  std::string traceparent() const { return span == 0 ? std::string{} : trace().traceparent(span); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_call& x) {
  return f(caf::meta::type_name("nexus.step_call"), x.cid, x.saga, x.step, x.attempt,
           x.compensate, x.input, x.deadline_us, x.definition, x.trace_hi, x.trace_lo, x.span,
           x.trace_flags, x.tracestate, x.sent_us);
}

/// The answer to a step_call, sent back to the saga that made it (as a
/// plain message: a saga makes no request of its stages, so that waiting
/// costs it no response handler and no timer): the attempt's outcome, the
/// one type the machines take, and the call it answers.
struct step_result {
  runtime::outcome outcome;
  std::string step; ///< Of the call it answers.
  std::uint32_t attempt = 0;
  bool compensate = false;
  std::int64_t sent_us = 0; ///< The call's (step_call::sent_us).

  /// The answer to `call`: `o`.
  static step_result answer(const step_call& call, runtime::outcome o) {
    step_result r;
    r.outcome = std::move(o);
    return r.to(call);
  }

  /// The failure of kind `kind` that answers `call`.
  static step_result failure(const step_call& call, config::error_kind kind, std::string why,
                             std::int64_t retry_after_ms = 0) {
    auto o = runtime::outcome::failure(kind, std::move(why));
    o.retry_after_ms = retry_after_ms;
    return answer(call, std::move(o));
  }

  /// Marks this as the answer to `call`.
  step_result& to(const step_call& call) {
    step = call.step;
    attempt = call.attempt;
    compensate = call.compensate;
    sent_us = call.sent_us;
    return *this;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_result& x) {
  auto& o = x.outcome;
  return f(caf::meta::type_name("nexus.step_result"), o.ok, o.output, o.kind, o.message,
           o.retry_after_ms, x.step, x.attempt, x.compensate, x.sent_us);
}

namespace config {

/// Crosses nodes: `nexus submit` sends `(submit_atom, token, saga_request)`
/// to a coordinator's gateway -> `uint8_t` (an actors::start_result), then
/// gets `(done_atom, cid, status)` as each saga it started ends.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saga_request& x) {
  return f(caf::meta::type_name("nexus.saga_request"), x.cancel, x.saga, x.correlation_id,
           x.correlation_id_given, x.input, x.line, x.traceparent, x.tracestate);
}

} // namespace config

/// The version of the messages between cluster nodes. A node whose version
/// differs is refused when it joins, with both versions named.
/// 3: calls carry their saga's definition, and batches the definitions
/// the node has not been sent yet. 4: calls and submitted starts carry a
/// W3C trace context.
constexpr std::uint32_t cluster_protocol = 4;

/// What a worker node sends the coordinator's gateway to join:
/// `(join_atom, join_request)` -> `std::string` (empty: joined; else why
/// not). The coordinator then sends the sender, the worker's endpoint,
/// `(execute_atom, call_batch)` and takes back `(result_atom,
/// result_batch)`; it watches the endpoint to learn when the node is lost.
struct join_request {
  std::uint32_t protocol = cluster_protocol;
  std::string token;
  std::string node;               ///< Its name, in logs.
  std::vector<std::string> steps; ///< `<saga>/<step>` of each step it serves.
  std::uint32_t capacity = 0;     ///< Calls it takes at once, over all its steps.
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_request& x) {
  return f(caf::meta::type_name("nexus.join_request"), x.protocol, x.token, x.node, x.steps,
           x.capacity);
}

/// A saga definition sent to a worker node: its saga's name, hash and text
/// (config/definition.hpp), checked against the hash where it arrives.
struct shipped_definition {
  std::string saga;
  std::string hash;
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shipped_definition& x) {
  return f(caf::meta::type_name("nexus.shipped_definition"), x.saga, x.hash, x.text);
}

/// Calls for one node, gathered while the coordinator's dispatcher works
/// through its mailbox: one network message carries many. Each call has the
/// dispatcher's ID for it, which its result carries back.
struct call_batch {
  /// Calls (or results) in one network message at most.
  static constexpr std::size_t max_size = 256;

  std::vector<std::uint64_t> ids;
  std::vector<step_call> calls;
  /// The definitions of these calls' sagas that the node has not been sent
  /// before: a worker runs a call by its saga's definition even when its
  /// own workflow file is older or newer.
  std::vector<shipped_definition> definitions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_batch& x) {
  return f(caf::meta::type_name("nexus.call_batch"), x.ids, x.calls, x.definitions);
}

/// Results going back to the dispatcher, gathered the same way.
struct result_batch {
  std::vector<std::uint64_t> ids;
  std::vector<step_result> results;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, result_batch& x) {
  return f(caf::meta::type_name("nexus.result_batch"), x.ids, x.results);
}

/// What a saga sends each attempt of a step to: the step's stage, the
/// breaker of the resource the step names, or a cluster's dispatcher. A
/// plain `(execute_atom, step_call)` message is answered with a plain
/// `step_result` message; a request, with a response.
using step_target = caf::typed_actor<caf::replies_to<execute_atom, step_call>::with<step_result>>;

/// Who hears the outcome of the calls it hands on, `(report_atom, id, ok,
/// kind)`: a breaker.
using outcome_listener =
  caf::typed_actor<caf::reacts_to<report_atom, std::uint64_t, bool, std::uint8_t>>;

/// Who hears that a stage's queue is full, `(pressure_atom, stage, true)`,
/// or has half emptied (false): the coordinator, which watches the stages.
using pressure_listener = caf::typed_actor<caf::reacts_to<pressure_atom, std::string, bool>>;

/// A stage as its watcher sees it: `(watch_atom)` makes the sender a
/// pressure_listener of it.
using pressure_source = caf::typed_actor<caf::reacts_to<watch_atom>>;

/// A call handed on by a breaker: answered as step_target's, and the
/// outcome also reported to the breaker, under the call's number there.
using handed_call =
  caf::replies_to<execute_atom, step_call, outcome_listener, std::uint64_t>::with<step_result>;

/// What a breaker hands the calls it lets through to: a stage, or a
/// cluster's dispatcher.
using call_runner = caf::typed_actor<handed_call>;

/// Registers every message type above with `cfg`, before the actor system
/// is constructed (on every node, under the same names).
void register_message_types(caf::actor_system_config& cfg);

} // namespace nexus

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nexus::storage::append_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nexus::runtime::run_summary)

