// A follower's side of replication (see replication.hpp): batches judged
// by runtime::replica_log, written as they come and synced once for all
// that came together, then reported; a batch that does not follow on asks
// for a checkpoint, which replaces the log (event_log::install) and is
// followed on from its mark.
#include "actors/ha/replication.hpp"

#include <filesystem>
#include <fstream>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "runtime/message_tally.hpp"
#include "runtime/replica_log.hpp"

namespace nexus::actors {

namespace {

struct replica_state {
  replica_setup setup;
  std::unique_ptr<storage::event_log> log;
  runtime::replica_log judged;
  caf::actor shipper;
  bool catching_up = false; ///< Asked for a checkpoint; batches wait for it.
  bool flush_queued = false;
  bool unsynced = false;
  bool stale_told = false;
  static inline const char* name = "nexus.replica";
};

using replica_actor = caf::stateful_actor<replica_state>;

void report(replica_actor* self) {
  auto& st = self->state;
  auto mark = st.log->replication();
  self->send(st.shipper, durable_atom::value, st.setup.node, mark.epoch, mark.position);
}

void follow(replica_actor* self) {
  auto& st = self->state;
  auto mark = st.log->replication();
  self->send(st.shipper, follow_atom::value, st.setup.node, caf::actor_cast<caf::actor>(self),
             mark.epoch, mark.position);
}

/// Chunks are appended to their files: a checkpoint must start from an
/// empty copy, never on what an interrupted one left (a leader that went
/// mid-transfer), or its files would hold both.
void discard_incoming(replica_actor* self) {
  std::error_code ec;
  std::filesystem::remove_all(storage::event_log::incoming_dir(self->state.setup.dir), ec);
}

void fail(replica_actor* self, const std::string& why) {
  spdlog::error("replica {} stops: {}", self->state.setup.node, why);
  self->quit(caf::make_error(caf::sec::runtime_error, why));
}

/// Syncs what was written since the last sync, then says what it holds.
void flush(replica_actor* self) {
  auto& st = self->state;
  st.flush_queued = false;
  if (st.unsynced) {
    st.unsynced = false;
    if (auto s = st.log->sync_wal(); !s)
      return fail(self, s.message());
  }
  report(self);
}

void queue_flush(replica_actor* self) {
  auto& st = self->state;
  if (st.flush_queued)
    return;
  // Behind every batch already in the mailbox: one sync for all of them.
  st.flush_queued = true;
  self->send(self, flush_atom::value);
}

void take(replica_actor* self, const storage::replicated_batch& b) {
  auto& st = self->state;
  if (st.catching_up)
    return; // sent again once the checkpoint is in
  using runtime::replica_verdict;
  switch (st.judged.judge(b.epoch, b.position, b.prev_epoch)) {
    case replica_verdict::append:
      if (auto s = st.log->apply(b, st.log->syncs()); !s)
        return fail(self, s.message());
      st.judged.appended(b.epoch, b.position);
      st.unsynced = st.log->syncs();
      queue_flush(self);
      return;
    case replica_verdict::duplicate:
      queue_flush(self); // it held it: say so again
      return;
    case replica_verdict::stale_epoch:
      if (!st.stale_told)
        spdlog::warn("replica {} refuses batches of epoch {}: it follows epoch {}", st.setup.node,
                     b.epoch, st.judged.epoch());
      st.stale_told = true;
      return;
    case replica_verdict::gap:
    case replica_verdict::diverged:
    case replica_verdict::truncate_then_append:
      // RocksDB takes back no write: dropping an older leader's batches is
      // taking a checkpoint of the newer one's log in place of this one.
      st.catching_up = true;
      discard_incoming(self);
      spdlog::info("replica {} cannot follow on with batch {} of epoch {} (it holds {}): it asks "
                   "for a checkpoint",
                   st.setup.node, b.position, b.epoch, st.judged.last());
      self->send(st.shipper, catch_up_atom::value, st.setup.node);
      return;
  }
}

/// One chunk of checkpoint file `name`, appended to its copy.
bool write_chunk(replica_actor* self, const std::string& name, const std::string& bytes) {
  auto& st = self->state;
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return false;
  auto incoming = storage::event_log::incoming_dir(st.setup.dir);
  std::error_code ec;
  std::filesystem::create_directories(incoming, ec);
  std::ofstream out{incoming + "/" + name, std::ios::binary | std::ios::app};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

/// The checkpoint whose files came is complete: it takes the log's place.
bool install(replica_actor* self, std::uint64_t epoch, std::uint64_t position) {
  auto& st = self->state;
  st.log.reset();
  if (auto s = storage::event_log::install(st.setup.dir); !s) {
    fail(self, s.message()); // its log is closed: it cannot go on
    return false;
  }
  std::string error;
  st.log = storage::event_log::open(storage::log_options::writer(st.setup.dir, st.setup.durability),
                                    error);
  if (!st.log) {
    fail(self, error);
    return false;
  }
  auto mark = st.log->replication();
  if (mark.epoch != epoch || mark.position != position) {
    fail(self, "the checkpoint installed in " + st.setup.dir + " holds batch "
                 + std::to_string(mark.position) + " of epoch " + std::to_string(mark.epoch)
                 + ", not batch " + std::to_string(position) + " of epoch "
                 + std::to_string(epoch) + " as its sender said");
    return false;
  }
  st.judged = runtime::replica_log{};
  st.judged.restored(epoch, position);
  st.catching_up = false;
  st.unsynced = false;
  spdlog::info("replica {} holds a checkpoint through batch {} of epoch {}", st.setup.node,
               position, epoch);
  follow(self);
  return true;
}

caf::behavior replica(replica_actor* self, replica_setup setup,
                      std::shared_ptr<std::unique_ptr<storage::event_log>> log) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.log = std::move(*log); // CAF copies what it spawns with: the log comes in a holder
  auto mark = st.log->replication();
  st.judged.restored(mark.epoch, mark.position);
  // A copy a crash interrupted is of no use: the next catch-up starts over.
  discard_incoming(self);
  return {
    [=](follow_atom, caf::actor& shipper) {
      runtime::count_message();
      self->state.shipper = std::move(shipper);
      self->state.catching_up = false;
      discard_incoming(self); // a checkpoint of a former leader's, cut short
      follow(self);
    },
    [=](ship_atom, const storage::replicated_batch& b) {
      runtime::count_message();
      take(self, b);
    },
    [=](flush_atom) {
      runtime::count_message();
      flush(self);
    },
    [=](checkpoint_atom, const std::string& name, const std::string& bytes) {
      runtime::count_message();
      return write_chunk(self, name, bytes);
    },
    [=](checkpoint_atom, std::uint64_t epoch, std::uint64_t position) {
      runtime::count_message();
      return install(self, epoch, position);
    },
    [=](stats_atom) -> caf::result<std::uint64_t, std::uint64_t> {
      runtime::count_message();
      auto mark = self->state.log->replication();
      return {mark.epoch, mark.position};
    },
  };
}

} // namespace

caf::actor spawn_replica(caf::actor_system& sys, replica_setup setup,
                         std::unique_ptr<storage::event_log> log, bool detached) {
  auto holder = std::make_shared<std::unique_ptr<storage::event_log>>(std::move(log));
  if (detached)
    return sys.spawn<caf::detached>(replica, std::move(setup), std::move(holder));
  return sys.spawn(replica, std::move(setup), std::move(holder));
}

} // namespace nexus::actors
