#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app/http_server.hpp"

namespace nexus::actors {
class engine;
}
namespace nexus::runtime {
class meter_board;
}

namespace nexus::app {

/// A process's Prometheus metrics (docs/metrics.md), in prometheus-cpp's
/// data model and written by its text serializer. What the hot path counts
/// (steps, sagas' durations, stages, breakers' transitions, the log's
/// batches, the cluster's nodes) is read from the run's runtime::meter_board
/// when scraped, the run's counts and breakers' states from the engine;
/// HTTP requests are counted as they are answered, in prometheus-cpp's
/// registry. Thread-safe. Labels carry names from the workflow and the
/// routes' templates, never a correlation ID.
class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Counts a request to `route` (a template: "/v1/sagas/{cid}") answered
  /// with `status`.
  void request_answered(const std::string& route, unsigned status);

  /// The exposition, in the text format (version 0.0.4), with every figure
  /// read now from `e` and its meters (engine::meters(), if any).
  std::string scrape(actors::engine& e);

  /// The same for a process without an engine (`nexus worker`): `board`'s
  /// figures and the process's.
  std::string scrape(const runtime::meter_board& board);

private:
  std::string scrape(actors::engine* e, const runtime::meter_board* board);

  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The content type of scrape()'s text.
constexpr const char* metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// The handler of `--metrics HOST:PORT` (nexus run, nexus worker): `GET
/// /metrics` answers `scrape()`, `GET /healthz` that it serves, anything
/// else 404 or 405. No token: it tells only counts and names from the
/// workflow file.
http_handler metrics_endpoint(std::function<std::string()> scrape);

/// Serves `scrape()` on `server` at `endpoint` (HOST:PORT, from option
/// `--metrics`) and says where on stderr; false, with `error`, for a bad
/// endpoint (exit 2) or one it cannot listen on.
bool serve_metrics(http_server& server, const std::string& endpoint,
                   std::function<std::string()> scrape, std::string& error);

/// The template of the route `path` falls under, for the request metrics:
/// "/v1/sagas/{saga}" for a start, "/v1/sagas/{cid}/signals/{name}", and so
/// on; "other" for a path no route serves.
std::string route_template(const std::string& method, const std::string& path);

} // namespace nexus::app
