#include "runtime/run_summary.hpp"

#include "config/json_writer.hpp"

namespace nexus::runtime {

void run_summary::count_end(std::optional<storage::saga_status> end) {
  if (!end)
    return;
  switch (*end) {
    case storage::saga_status::completed:
      ++completed;
      break;
    case storage::saga_status::compensated:
      ++compensated;
      break;
    case storage::saga_status::failed:
      ++failed;
      break;
    case storage::saga_status::cancelled:
      ++cancelled;
      break;
    case storage::saga_status::running:
    case storage::saga_status::compensating:
      break;
  }
}

std::string run_summary::to_json() const {
  std::string out;
  config::json_object_writer w{out};
  auto finished = ended();
  w.field("started", started)
    .field("resumed", resumed)
    .field("completed", completed)
    .field("compensated", compensated)
    .field("failed", failed)
    .field("cancelled", cancelled)
    .field("duplicates", duplicates)
    .field("skipped", skipped)
    .field("events", events)
    .field("write_batches", write_batches)
    .field("seconds", seconds)
    .field("sagas_per_sec", seconds > 0 ? static_cast<double>(finished) / seconds : 0.0)
    .field("latency_p50_ms", latency_p50_ms)
    .field("latency_p90_ms", latency_p90_ms)
    .field("latency_p99_ms", latency_p99_ms)
    .field("latency_max_ms", latency_max_ms)
    .field("replayed_events", replayed_events)
    .field("replay_seconds", replay_seconds);
  if (interrupted > 0)
    w.field("interrupted", interrupted);
  if (!error.empty())
    w.field("error", error);
  w.finish();
  return out;
}

} // namespace nexus::runtime
