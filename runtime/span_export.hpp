#pragma once

// OTLP/HTTP export of a run's spans (docs/tracing.md): the sagas, and each
// attempt of a step or a compensation. The OTLP protobuf JSON mapping is
// written by hand with the project's JSON writer: Debian ships neither the
// OpenTelemetry C++ SDK nor its proto definitions as a C++ library, and the
// traces request is one fixed shape of a few fields.

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/workflow.hpp"
#include "runtime/meters.hpp"

namespace nexus::runtime {

/// One finished span.
struct span_record {
  std::array<std::uint8_t, 16> trace{};
  std::uint64_t span = 0;
  std::uint64_t parent = 0; ///< 0: a root.
  std::string name;
  std::int64_t start_us = 0, end_us = 0;
  bool error = false;       ///< Status ERROR (else OK).
  std::string message;      ///< The status's message: the error, or how the saga ended.
  // Attributes: nexus.correlation_id, nexus.saga, nexus.step, nexus.attempt,
  // nexus.compensation, nexus.outcome (those set).
  std::string cid, saga, step, outcome;
  std::uint32_t attempt = 0;
  bool compensation = false;
};

/// The body of an OTLP/HTTP JSON traces request (ExportTraceServiceRequest)
/// holding `spans`, under a resource named `service`.
std::string otlp_json(const std::vector<span_record>& spans, const std::string& service);

/// Sends spans to `tracing.otlp_endpoint` in batches from a thread of its
/// own, off the hot path: submit() only queues (a bounded queue; what does
/// not fit is dropped and counted), so a slow or absent collector never
/// slows a saga. The destructor sends what is queued (one try, within the
/// request timeout) and stops.
class span_exporter {
public:
  /// `counts` (null: none) gets what was exported and what was dropped.
  span_exporter(const config::tracing_settings& settings, trace_meters* counts);
  ~span_exporter();
  span_exporter(const span_exporter&) = delete;
  span_exporter& operator=(const span_exporter&) = delete;

  void submit(span_record span);

private:
  void run();
  void send(std::vector<span_record>& batch);

  config::tracing_settings settings_;
  trace_meters* counts_;
  std::mutex lock_;
  std::condition_variable wake_;
  std::deque<span_record> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace nexus::runtime
