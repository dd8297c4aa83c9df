#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nexus::app {

// An HTTP/1.1 server on Boost.Beast (Debian's libboost1.74-dev): keep-alive,
// bounded requests, a header timeout, a bound on connections. It knows
// nothing of sagas: each request goes to one handler, which answers once,
// from any thread. Beast stays out of this header.

struct http_request {
  std::string method;  ///< As sent: "GET", "POST", or an unknown one.
  std::string target;  ///< As sent: path and query.
  std::string path;    ///< Percent-decoded, without the query.
  std::map<std::string, std::string> query;   ///< Decoded; a repeated key keeps the last.
  std::map<std::string, std::string> headers; ///< Names in lower case.
  std::string body;

  /// A header's value ("" if absent); `name` in lower case.
  const std::string& header(const std::string& name) const;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< More of them, such as Location.
  /// If set, the body is streamed (server-sent events), in chunks: the
  /// server calls it on the connection's thread every `poll_ms` for what
  /// has come since (empty: nothing), until it returns nothing at all (the
  /// end). `body` goes first. While it has nothing for 5 s, the server
  /// sends an SSE comment, so that a client that has gone is noticed.
  std::function<std::optional<std::string>()> stream;
  std::uint32_t poll_ms = 50;
};

/// Gives a request's answer; callable once, from any thread.
using http_reply = std::function<void(http_response)>;
using http_handler = std::function<void(http_request&&, http_reply)>;

struct http_settings {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                   ///< 0: a free port (see http_server::port()).
  std::size_t max_body_bytes = 1 << 20;     ///< Beyond: 413.
  std::size_t max_header_bytes = 64 << 10;  ///< Beyond: 431.
  /// A request not read whole by then (or a keep-alive connection silent
  /// this long): closed.
  std::uint32_t header_timeout_ms = 10000;
  std::uint32_t max_connections = 256;      ///< One more is answered 503 and closed.
  /// I/O threads. One serves some 40,000 requests/s (bench/README.md), far
  /// more than the engine starts: more only take cores from the sagas.
  std::uint32_t threads = 1;
  std::string tls_certificate, tls_key;     ///< PEM files: HTTPS. Empty: plain HTTP.
};

/// The body of an `application/problem+json` answer (RFC 9457).
std::string problem_json(unsigned status, const std::string& title, const std::string& detail,
                         const std::string& pointer = {});

/// An `application/problem+json` response.
http_response problem(unsigned status, const std::string& title, const std::string& detail,
                      const std::string& pointer = {});

class http_server {
public:
  http_server();
  ~http_server(); ///< Stops it.
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Listens and serves on threads of its own; false, with `error`, if it
  /// cannot (the address, the TLS files).
  bool start(const http_settings& settings, http_handler handler, std::string& error);

  /// The port it listens on.
  std::uint16_t port() const;

  /// Closes every connection and stops; waits for its threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nexus::app
