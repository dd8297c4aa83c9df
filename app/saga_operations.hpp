#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace nexus::config {
struct workflow;
}
namespace nexus::actors {
class engine;
}
namespace nexus::runtime {
struct saga_signal;
}

namespace nexus::app {

// What a running engine does for a client, once for every front: the MCP
// tools (mcp_tools.cpp) and the HTTP API (http_api.cpp) check their own
// arguments' shape, then call these, and turn the result into a tool
// answer or an HTTP response.

/// How an operation came out.
struct op_result {
  enum class kind : std::uint8_t {
    done,        ///< `json` is the answer.
    started,     ///< A saga's start is durable; `json` says which.
    duplicate,   ///< Its correlation ID was in the log already; `json` is its state.
    accepted,    ///< A cancel under way; `json` says so.
    bad_request, ///< `detail` says what is wrong with `field` (a JSON Pointer, or "").
    not_found,   ///< `detail` names what is missing.
    conflict,    ///< It cannot be done in the saga's state (a retry of a running saga).
    unavailable, ///< The engine is stopping, or its log cannot be read.
  };
  kind what = kind::done;
  std::string json;
  std::string detail;
  std::string field;

  bool ok() const { return what <= kind::accepted; }
  static op_result failure(kind k, std::string detail, std::string field = {}) {
    return {k, {}, std::move(detail), std::move(field)};
  }
};

constexpr std::uint64_t default_page = 50;
constexpr std::uint64_t default_events_page = 100;
constexpr std::uint64_t max_page = 1000;

/// Starts saga `saga` with `input` (a JSON object's text) under `cid`, or
/// under an ID made up when there is none; answers once it is durable.
op_result start_saga(actors::engine& e, const config::workflow& wf, const std::string& saga,
                     const std::string& input, std::optional<std::string> cid);

/// As start_saga(), without holding the calling thread: `then` gets the
/// result and the correlation ID used (given or made up), from one of the
/// engine's threads. `traceparent` and `tracestate` (W3C, as an HTTP
/// client sent them) make the saga part of the caller's trace.
void start_saga_then(actors::engine& e, const config::workflow& wf, const std::string& saga,
                     const std::string& input, std::optional<std::string> cid,
                     std::function<void(op_result, const std::string& cid)> then,
                     const std::string& traceparent = {}, const std::string& tracestate = {});

/// One saga: status, each step's state and attempts, outputs, errors, input,
/// and a page of its events after `after_seq` (at most `limit`).
op_result get_saga(actors::engine& e, const config::workflow& wf, const std::string& cid,
                   std::uint64_t after_seq, std::uint64_t limit);

/// A page of saga `cid`'s events after `after_seq` (at most `limit`), and
/// `next_after_seq` when there are more.
op_result saga_events(actors::engine& e, const std::string& cid, std::uint64_t after_seq,
                      std::uint64_t limit);

/// A page of sagas in correlation-ID order, after `cursor`, of one status
/// and one saga when given.
op_result list_sagas(actors::engine& e, const std::optional<std::string>& status,
                     const std::optional<std::string>& saga, std::uint64_t limit,
                     const std::optional<std::string>& cursor);

op_result cancel_saga(actors::engine& e, const std::string& cid);

op_result retry_saga(actors::engine& e, const std::string& cid);

/// Sends signal `s`: done once durable (`"result": "stored"`); a signal_id
/// received before is done too (`"duplicate"`); an unknown saga not_found;
/// one that has ended conflict, naming its status.
op_result signal_saga(actors::engine& e, const runtime::saga_signal& s);

/// The answer to signal `s` that was stored, or was a `duplicate`: what
/// signal_saga() gives and `nexus signal --json` prints.
std::string signal_json(const runtime::saga_signal& s, bool duplicate);

/// As signal_saga(), without holding the calling thread.
void signal_saga_then(actors::engine& e, runtime::saga_signal s,
                      std::function<void(op_result)> then);

/// Every resource's breaker (or `resource`'s).
op_result breakers(actors::engine& e, const config::workflow& wf,
                   const std::optional<std::string>& resource);

/// The log's figures, and the engine's counts beside them.
op_result stats(actors::engine& e);

/// This coordinator in its cluster (GET /v1/cluster, `nexus cluster
/// status`): its node, role ("leader" of a replicated log, or "single"),
/// epoch, last batch written, last acknowledged, and its followers with
/// the batch each reported durable.
op_result cluster_state(actors::engine& e);

} // namespace nexus::app
