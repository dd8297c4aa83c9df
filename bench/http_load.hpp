#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nexus::bench {

/// Durable starts over HTTP keep-alive connections (the `http` phase).
struct http_load_spec {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string saga = "bench";
  std::string prefix;            ///< Correlation IDs are PREFIX-N.
  std::uint64_t requests = 0;
  std::uint32_t connections = 64;
  /// Starts/s over all connections, each due at its time (latency counted
  /// from then, so a server that falls behind shows it); 0: closed loop,
  /// each connection sends when its last answer came.
  double rate = 0;
};

struct http_load_result {
  std::uint64_t created = 0;      ///< Answered 201.
  std::uint64_t other = 0;        ///< Answered otherwise.
  double seconds = 0;
  std::vector<double> latency_ms; ///< Of every answer, in the order they came.
  std::string error;              ///< A connection that failed.
};

/// Sends spec.requests `POST /v1/sagas/{saga}` starts, each with its own
/// correlation ID, on one thread of async I/O (Boost.Beast).
http_load_result run_http_load(const http_load_spec& spec);

/// The body of `GET target` on host:port (blocking; "" if it fails).
std::string http_get(const std::string& host, std::uint16_t port, const std::string& target);

} // namespace nexus::bench
