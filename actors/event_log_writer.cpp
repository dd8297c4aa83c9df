#include "actors/event_log_writer.hpp"

#include <chrono>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "runtime/crash_point.hpp"
#include "runtime/meters.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

namespace {

struct writer_state {
  storage::event_log* log = nullptr;
  runtime::log_meters* meters = nullptr;
  std::uint32_t batch_size = 1;
  std::vector<storage::append_request> pending;
  std::vector<caf::response_promise> promises;
  bool flush_queued = false;
  std::uint64_t events_written = 0;
  std::uint64_t batches_written = 0;
  std::string failure; ///< Set once a write has failed; nothing is written after.
  static inline const char* name = "nexus.event_log_writer";
};

using writer_actor = log_writer::stateful_pointer<writer_state>;

void flush(writer_actor self) {
  auto& st = self->state;
  if (st.pending.empty())
    return;
  std::vector<const storage::append_request*> batch;
  batch.reserve(st.pending.size());
  std::uint64_t events = 0;
  for (auto& req : st.pending) {
    batch.push_back(&req);
    events += req.events.size();
  }
  std::uint64_t bytes = 0;
  std::chrono::steady_clock::time_point began;
  if (st.meters) // timed only for the metrics
    began = std::chrono::steady_clock::now();
  auto result = st.log->write(batch, &bytes);
  if (result && st.meters) {
    auto took = std::chrono::steady_clock::now() - began;
    st.meters->write_us.observe(
      std::chrono::duration_cast<std::chrono::microseconds>(took).count());
    st.meters->batch_events.observe(static_cast<std::int64_t>(events));
    st.meters->bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (result) {
    runtime::crash_point("append");
    st.events_written += events;
    ++st.batches_written;
    for (auto& rp : st.promises)
      rp.deliver(ack_atom::value);
  } else {
    st.failure = result.message();
    spdlog::error("event log write failed, nothing more will be written: {}", st.failure);
    for (auto& rp : st.promises)
      rp.deliver(caf::make_error(errc::log_write_failed, st.failure));
  }
  st.pending.clear();
  st.promises.clear();
}

log_writer::behavior_type writer(writer_actor self, storage::event_log* log,
                                 std::uint32_t batch_size, runtime::log_meters* meters) {
  self->state.log = log;
  self->state.meters = meters;
  self->state.batch_size = batch_size;
  return {
    [=](append_atom, storage::append_request& req) -> caf::result<ack_atom> {
      auto& st = self->state;
      if (!st.failure.empty())
        return caf::make_error(errc::log_write_failed, st.failure);
      st.pending.push_back(std::move(req));
      st.promises.push_back(self->make_response_promise());
      if (st.pending.size() >= st.batch_size) {
        flush(self);
      } else if (!st.flush_queued) {
        // Queued behind every append already waiting: those join this batch.
        st.flush_queued = true;
        self->send(self, flush_atom::value);
      }
      return caf::delegated<ack_atom>{};
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      flush(self);
    },
    [=](stats_atom) -> caf::result<std::uint64_t, std::uint64_t> {
      return {self->state.events_written, self->state.batches_written};
    },
  };
}

} // namespace

log_writer spawn_event_log_writer(caf::actor_system& sys, storage::event_log& log,
                                  std::uint32_t batch_size, placement where,
                                  runtime::log_meters* meters) {
  if (where == placement::scheduler)
    return sys.spawn(writer, &log, batch_size, meters);
  return sys.spawn<caf::detached>(writer, &log, batch_size, meters);
}

} // namespace nexus::actors
