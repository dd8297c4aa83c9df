#include "actors/event_log_writer.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "runtime/crash_point.hpp"
#include "runtime/meters.hpp"
#include "runtime/message_tally.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/ha/replication.hpp"
#include "actors/owed_answer.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

namespace {

/// Why the log stopped taking writes, shared by the writer and its syncer:
/// whichever fails first sets it, and both refuse everything after.
class log_failure {
public:
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  std::string why() const {
    std::lock_guard<std::mutex> lock{m_};
    return why_;
  }
  void set(const std::string& why) {
    std::lock_guard<std::mutex> lock{m_};
    if (failed_.load(std::memory_order_relaxed))
      return;
    why_ = why;
    failed_.store(true, std::memory_order_release);
    spdlog::error("event log write failed, nothing more will be written: {}", why);
  }

private:
  mutable std::mutex m_;
  std::string why_;
  std::atomic<bool> failed_{false};
};

} // namespace
} // namespace nexus::actors

namespace nexus::actors {

namespace {

std::int64_t micros_since(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now()
                                                                - began)
    .count();
}

void refuse(caf::local_actor* self, std::vector<owed_answer>& acks, const std::string& why) {
  for (auto& a : acks)
    std::move(a).promise(self).deliver(caf::make_error(errc::log_write_failed, why));
  acks.clear();
}

void acknowledge(caf::local_actor* self, std::vector<owed_answer>& acks) {
  for (auto& a : acks)
    std::move(a).promise(self).deliver(ack_atom::value);
  acks.clear();
}

// Batches written, with the answers owed for each (written_batch): whoever
// holds them (the syncer, a replicating leader's shipper) answers as the
// writer would (a response promise answers only from its own actor).

void refuse(caf::local_actor* self, std::vector<written_batch>& written, const std::string& why) {
  for (auto& w : written)
    refuse(self, w.acks, why);
  written.clear();
}

/// Durable here: acknowledged, or, on a replicating leader, handed to the
/// shipper, which acknowledges once the replicas have them too.
void durable(caf::local_actor* self, const caf::actor& gate, std::vector<written_batch>& written) {
  runtime::crash_point("append");
  if (gate) {
    caf::anon_send(gate, synced_atom::value, std::move(written));
  } else {
    for (auto& w : written)
      acknowledge(self, w.acks);
  }
  written.clear();
}

// -- the syncer: one fsync for every batch written since the last ------------

struct syncer_state {
  storage::event_log* log = nullptr;
  runtime::log_meters* meters = nullptr;
  std::shared_ptr<log_failure> failure;
  caf::actor gate;
  std::vector<written_batch> waiting;
  bool sync_queued = false;
  static inline const char* name = "nexus.event_log_syncer";
};

using syncer_actor = caf::stateful_actor<syncer_state>;

void sync_now(syncer_actor* self) {
  auto& st = self->state;
  st.sync_queued = false;
  if (st.waiting.empty())
    return;
  if (st.failure->failed())
    return refuse(self, st.waiting, st.failure->why());
  std::chrono::steady_clock::time_point began;
  if (st.meters) // timed only for the metrics
    began = std::chrono::steady_clock::now();
  if (auto result = st.log->sync_wal(); !result) {
    st.failure->set(result.message());
    return refuse(self, st.waiting, result.message());
  }
  if (st.meters)
    st.meters->sync_us.observe(micros_since(began));
  durable(self, st.gate, st.waiting);
}

caf::behavior syncer(syncer_actor* self, storage::event_log* log, runtime::log_meters* meters,
                     std::shared_ptr<log_failure> failure, caf::actor gate) {
  self->state.log = log;
  self->state.meters = meters;
  self->state.failure = std::move(failure);
  self->state.gate = std::move(gate);
  return {
    [=](sync_atom, written_batch& written) {
      runtime::count_message();
      auto& st = self->state;
      st.waiting.push_back(std::move(written));
      if (!st.sync_queued) {
        // Queued behind every batch already waiting: one sync covers them all.
        st.sync_queued = true;
        self->send(self, flush_atom::value);
      }
    },
    [=](flush_atom) {
      runtime::count_message();
      sync_now(self);
    },
  };
}

// -- the writer: group commit, without waiting for the sync -----------------

struct writer_state {
  storage::event_log* log = nullptr;
  runtime::log_meters* meters = nullptr;
  std::uint32_t batch_size = 1;
  std::vector<storage::append_request> pending;
  std::vector<owed_answer> acks; ///< Of `pending`, in order.
  std::vector<const storage::append_request*> batch;
  bool flush_queued = false;
  std::uint64_t events_written = 0;
  std::uint64_t batches_written = 0;
  std::shared_ptr<log_failure> failure;
  /// Under `durability: sync`: who syncs what this writer wrote, and
  /// acknowledges it then. Otherwise none: a write is acknowledged at once.
  caf::actor syncer;
  /// A replicating leader's shipper, which acknowledges what is durable here
  /// once the replicas have it (none: not replicated).
  caf::actor gate;
  static inline const char* name = "nexus.event_log_writer";
};

using writer_actor = log_writer::stateful_pointer<writer_state>;

void flush(writer_actor self) {
  auto& st = self->state;
  if (st.pending.empty())
    return;
  if (st.failure->failed()) {
    st.pending.clear();
    return refuse(self, st.acks, st.failure->why());
  }
  st.batch.clear();
  std::uint64_t events = 0;
  for (auto& req : st.pending) {
    st.batch.push_back(&req);
    events += req.events.size();
  }
  std::uint64_t bytes = 0;
  std::chrono::steady_clock::time_point began;
  if (st.meters) // timed only for the metrics
    began = std::chrono::steady_clock::now();
  auto result = st.log->write(st.batch, &bytes, st.syncer != nullptr);
  st.pending.clear();
  if (!result) {
    st.failure->set(result.message());
    return refuse(self, st.acks, result.message());
  }
  if (st.meters) {
    st.meters->write_us.observe(micros_since(began));
    st.meters->batch_events.observe(static_cast<std::int64_t>(events));
    st.meters->bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  st.events_written += events;
  ++st.batches_written;
  // Its place in the replicated log: the mark, read after the write. A
  // write of retention's in between can only put it later, which holds the
  // acknowledgement a little longer, never less.
  written_batch written{st.gate ? st.log->replication().position : 0, std::move(st.acks)};
  st.acks.clear();
  if (st.syncer) {
    runtime::crash_point("written");
    // Acknowledged once a sync covers it; the next batch is written
    // meanwhile, so a slow sync holds only the sagas whose events wait on it.
    caf::anon_send(st.syncer, sync_atom::value, std::move(written));
    return;
  }
  std::vector<written_batch> now;
  now.push_back(std::move(written));
  durable(self, st.gate, now);
}

log_writer::behavior_type writer(writer_actor self, storage::event_log* log,
                                 std::uint32_t batch_size, runtime::log_meters* meters,
                                 placement where, caf::actor gate) {
  auto& st = self->state;
  st.gate = gate;
  st.log = log;
  st.meters = meters;
  st.batch_size = batch_size;
  st.failure = std::make_shared<log_failure>();
  if (log->syncs()) {
    st.syncer = where == placement::scheduler
                  ? self->spawn<caf::linked>(syncer, log, meters, st.failure, gate)
                  : self->spawn<caf::linked + caf::detached>(syncer, log, meters, st.failure,
                                                             gate);
    // It stops with the writer, however the writer ends (an exit message
    // of reason `normal` would not stop it).
    self->attach_functor([s = st.syncer](const caf::error&) {
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    });
  }
  return {
    [=](append_atom, storage::append_request& req) -> caf::result<ack_atom> {
      runtime::count_message();
      auto& st = self->state;
      if (st.failure->failed())
        return caf::make_error(errc::log_write_failed, st.failure->why());
      st.pending.push_back(std::move(req));
      st.acks.push_back(owed_answer::current(self));
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
      runtime::count_message();
      self->state.flush_queued = false;
      flush(self);
    },
    [=](stats_atom) -> caf::result<std::uint64_t, std::uint64_t> {
      runtime::count_message();
      return {self->state.events_written, self->state.batches_written};
    },
  };
}

} // namespace

log_writer spawn_event_log_writer(caf::actor_system& sys, storage::event_log& log,
                                  std::uint32_t batch_size, placement where,
                                  runtime::log_meters* meters, caf::actor gate) {
  if (where == placement::scheduler)
    return sys.spawn(writer, &log, batch_size, meters, where, gate);
  return sys.spawn<caf::detached>(writer, &log, batch_size, meters, where, gate);
}

} // namespace nexus::actors
