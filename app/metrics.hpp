#pragma once

#include <memory>
#include <string>

namespace nexus::actors {
class engine;
}

namespace nexus::app {

/// A serving process's Prometheus metrics (docs/metrics.md), kept in
/// prometheus-cpp's registry and written by its text serializer. The run's
/// figures (sagas by saga and status, in memory and parked, stages, the
/// log's writes, breakers, the process) are read from the engine when
/// scraped; HTTP requests are counted as they are answered. Thread-safe.
/// Labels carry names from the workflow and the routes' templates, never a
/// correlation ID.
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
  /// brought up to date from `e`.
  std::string scrape(actors::engine& e);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The template of the route `path` falls under, for the request metrics:
/// "/v1/sagas/{saga}" for a start, "/v1/sagas/{cid}/signals/{name}", and so
/// on; "other" for a path no route serves.
std::string route_template(const std::string& method, const std::string& path);

} // namespace nexus::app
