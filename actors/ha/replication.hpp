#pragma once

// Replication of the event log between coordinators (docs/ha.md, issue
// #24), as actors: the leader's shipper and a follower's replica.
//
// The leading log hands each batch it writes to the shipper (event_log::
// lead), which sends it to every follower's replica; a replica writes the
// batches that follow on what it holds and reports what it holds durable;
// the shipper acknowledges the writer's appends once a batch is durable on
// the leader and on `min_replicas` followers, and only while the leader's
// lease lets it. A replica that cannot follow on (behind what the shipper
// still holds, or holding batches the leader lacks) is sent a checkpoint.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/owed_answer.hpp"
#include "config/workflow.hpp"
#include "storage/event_log.hpp"

namespace nexus::storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replicated_batch& x) {
  return f(caf::meta::type_name("nexus.replicated_batch"), x.epoch, x.position, x.prev_epoch,
           x.data);
}

} // namespace nexus::storage

namespace nexus::actors {

/// `(ship_atom, replicated_batch)`: a batch, to the shipper from the log,
/// and from the shipper to a replica.
using ship_atom = caf::atom_constant<caf::atom("ship")>;
/// `(follow_atom, node, replica, epoch, position)`: a replica, to the
/// shipper: it follows from its mark on. `(follow_atom, shipper)`: to a
/// replica, whom to follow.
using follow_atom = caf::atom_constant<caf::atom("follow")>;
/// `(durable_atom, node, epoch, position)`: a replica holds every batch up
/// to its mark durable.
using durable_atom = caf::atom_constant<caf::atom("durable")>;
/// `(catch_up_atom, node)`: a replica cannot follow on; it wants a checkpoint.
using catch_up_atom = caf::atom_constant<caf::atom("catch_up")>;
/// A checkpoint's files, chunk by chunk, then its mark.
using checkpoint_atom = caf::atom_constant<caf::atom("checkpoint")>;
/// `(lease_atom, valid_until_us)`: until when the leader may acknowledge.
using lease_atom = caf::atom_constant<caf::atom("lease")>;
/// `(followers_atom)` -> `std::string`: the shipper's followers as a JSON
/// array of `{"node", "position", "catching_up"}` (`nexus cluster status`).
using followers_atom = caf::atom_constant<caf::atom("followers")>;
/// `(synced_atom, std::vector<written_batch>)`: durable on the leader.
using synced_atom = caf::atom_constant<caf::atom("synced")>;

/// A batch the writer wrote, with the answers it owes for it.
struct written_batch {
  std::uint64_t position = 0; ///< Its place in the replicated log (0: not replicated).
  std::vector<owed_answer> acks;
};

struct shipper_setup {
  storage::event_log* log = nullptr; ///< Leading epoch `epoch` (lead() comes after the spawn).
  std::uint64_t epoch = 0;
  std::uint32_t min_replicas = 1;
  /// The batches kept for followers that are behind, in bytes: one further
  /// behind is sent a checkpoint.
  std::size_t ring_bytes = 64u << 20;
  /// Batches sent to a replica and not yet reported durable, at most.
  std::uint32_t window = 256;
  /// Where checkpoints are made for replicas that catch up: on the log's
  /// file system (they are hard links), removed once sent.
  std::string checkpoint_dir;
  std::size_t chunk_bytes = 4u << 20;
  /// Microseconds since the epoch, on the clock the lease was measured on.
  std::function<std::int64_t()> now_us;
  /// The last batch the log held before it led this epoch.
  storage::replication_mark before;
  /// Told (on the shipper's thread) of a replica that holds a longer log
  /// than this leader had when it began to lead (a later batch, by epoch
  /// then position): batches acknowledged by the former leader may be
  /// there and nowhere here, so this one must not lead. Such a replica is
  /// sent nothing (a checkpoint would take those batches away).
  std::function<void(const std::string& node, std::uint64_t epoch, std::uint64_t position)>
    on_longer_log;
};

/// Spawns the shipper of a leading log (on a thread of its own unless a
/// test places it on the scheduler). Protocol: `(ship_atom, batch)` from
/// the log; `(synced_atom, written)` from the writer or its syncer;
/// `(lease_atom, valid_until_us)` from the leadership; `(follow_atom,
/// node, replica, epoch, position)`, `(durable_atom, node, epoch,
/// position)` and `(catch_up_atom, node)` from replicas; `(stats_atom)` ->
/// `(committed, replicas)`. A replica that goes down counts no more.
caf::actor spawn_shipper(caf::actor_system& sys, shipper_setup setup, bool detached = true);

struct replica_setup {
  std::string dir; ///< Its log's directory (event_log::install replaces the log there).
  config::durability durability = config::durability::sync;
  std::string node; ///< Its name, as the shipper knows it.
};

/// Spawns a follower's replica, which owns `log` (opened for writing in
/// `setup.dir`) while it follows. Protocol: `(follow_atom, shipper)` starts
/// following; `(ship_atom, batch)`, `(checkpoint_atom, name, bytes)` ->
/// `bool`, `(checkpoint_atom, epoch, position)` -> `bool` from the
/// shipper; `(stats_atom)` -> `(epoch, position)` it holds durable.
caf::actor spawn_replica(caf::actor_system& sys, replica_setup setup,
                         std::unique_ptr<storage::event_log> log, bool detached = true);

} // namespace nexus::actors

// Local only: owed answers are the writer's to its sagas.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nexus::actors::written_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<nexus::actors::written_batch>)
