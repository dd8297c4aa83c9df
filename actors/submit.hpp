#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "actors/client_end.hpp"

namespace nexus::runtime {
class input_source;
}

namespace nexus::actors {

/// `nexus submit`: sagas sent to a coordinator (`nexus serve`, or `run
/// --listen`) over the network.
struct submit_options {
  /// The coordinator's `--listen` (host, port); for a replicated cluster
  /// (cluster.ha), each coordinator's: the leader is the one that takes the
  /// connection (followers listen on none), and when it is lost the next
  /// is looked for among them for `reconnect_seconds`.
  std::vector<std::pair<std::string, std::uint16_t>> coordinators;
  std::uint32_t reconnect_seconds = 30;
  std::string cluster = "nexus"; ///< Its cluster.name (checked in CAF's handshake).
  std::string token;
  std::string tls_certificate, tls_key, tls_ca; ///< Mutual TLS, when the coordinator uses it.
  bool detach = false;           ///< Return once submitted, not when they end.
  /// Told what became of each request: `what` is `started`, `duplicate`,
  /// ... and, without `detach`, each saga's end status.
  std::function<void(const std::string& cid, const std::string& what)> report;
  /// Told what it does that is no request's result (following the next
  /// leader); may be empty.
  std::function<void(const std::string& what)> notice;
};

/// Submits every request `input` gives, then (without `detach`) waits for
/// each saga it started to end. Done when all were taken (and have ended);
/// refused for a bad input line or a request the coordinator refused
/// (unknown saga, bad ID or input, wrong token); lost when the coordinator
/// cannot be reached or is lost (with several coordinators: when none
/// leads within `reconnect_seconds`). `error` says why when it is not done.
///
/// With several, a lost leader's unsettled work goes to the next: each
/// start not yet answered, or answered and not yet ended, is sent again
/// under its correlation ID (the log keeps it once: `duplicate` then means
/// it was taken) and its end asked for; a signal not yet answered is sent
/// again when it has a signal_id (stored once), and otherwise ends the run
/// as lost (it may or may not have been stored).
client_end submit_sagas(runtime::input_source& input, const submit_options& opts,
                        std::string& error);

} // namespace nexus::actors
