#pragma once

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"
#include "actors/placement.hpp"

namespace nexus::storage {
class event_log;
}
namespace nexus::runtime {
struct log_meters;
}

namespace nexus::actors {

/// The writer's interface, checked by the compiler wherever it is held:
/// appends answered with `ack_atom` once durable (or an error), its counts,
/// and `(flush_atom)`, which it sends itself to close a group commit.
using log_writer =
  caf::typed_actor<caf::replies_to<append_atom, storage::append_request>::with<ack_atom>,
                   caf::replies_to<stats_atom>::with<std::uint64_t, std::uint64_t>,
                   caf::reacts_to<flush_atom>>;

/// Spawns the one writer of the event log, on a thread of its own (RocksDB
/// calls block) unless a test places it on the scheduler.
///
/// Protocol:
/// - `(append_atom, storage::append_request)` -> `ack_atom` once the request's
///   events are durable, or an error if the write failed: a failed write is
///   never acknowledged, and every later append is refused.
/// - `(stats_atom)` -> `(uint64_t events, uint64_t batches)` written so far.
///
/// Group commit: appends are gathered into one batch until `batch_size`
/// requests are waiting or no more appends are in the mailbox; the batch is
/// then written at once. Under `durability: sync` the writes are
/// pipelined: a batch goes to the memtables and the WAL file without its
/// fsync, and the next is written at once, while a syncer (on a thread of
/// its own) syncs the WAL for every batch written before it and only then
/// acknowledges their requests, in order. Under the other settings a batch
/// is acknowledged once written.
/// `log` must outlive the actor; so must `meters` (null: none), where each
/// batch's events, bytes and write time are counted. With a `gate` (a
/// replicating leader's shipper, actors/ha/replication.hpp), what is
/// durable here goes to it as `(synced_atom, std::vector<written_batch>)`,
/// and it acknowledges once the replicas hold it too.
log_writer spawn_event_log_writer(caf::actor_system& sys, storage::event_log& log,
                                  std::uint32_t batch_size,
                                  placement where = placement::own_thread,
                                  runtime::log_meters* meters = nullptr,
                                  caf::actor gate = {});

} // namespace nexus::actors
