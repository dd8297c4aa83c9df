#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "actors/client_end.hpp"

namespace nexus::runtime {
class input_source;
}

namespace nexus::actors {

/// `nexus submit`: sagas sent to a coordinator (`nexus serve`, or `run
/// --listen`) over the network.
struct submit_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string cluster = "nexus"; ///< Its cluster.name (checked in CAF's handshake).
  std::string token;
  std::string tls_certificate, tls_key, tls_ca; ///< Mutual TLS, when the coordinator uses it.
  bool detach = false;           ///< Return once submitted, not when they end.
  /// Told what became of each request: `what` is `started`, `duplicate`,
  /// ... and, without `detach`, each saga's end status.
  std::function<void(const std::string& cid, const std::string& what)> report;
};

/// Submits every request `input` gives, then (without `detach`) waits for
/// each saga it started to end. Done when all were taken (and have ended);
/// refused for a bad input line or a request the coordinator refused
/// (unknown saga, bad ID or input, wrong token); lost when the coordinator
/// cannot be reached or is lost. `error` says why when it is not done.
client_end submit_sagas(runtime::input_source& input, const submit_options& opts,
                        std::string& error);

} // namespace nexus::actors
