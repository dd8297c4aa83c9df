#pragma once

// The RocksDB side of the event log, shared by its translation units
// (event_log_open, _read, _write, _retention): private to storage/, never
// included elsewhere (tests/layering_test.sh checks it).

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/write_batch.h>

#include "storage/event_log.hpp"
#include "storage/wal_fence_impl.hpp"

namespace nexus::storage {

// Persisted: the family names are part of the on-disk format.
// `definitions` came with schema 2, `timers` after it: a log written before
// has none, and a reader opens such a log without them (their handles stay
// null); a writer adds them.
inline constexpr const char* family_names[] = {"default", "events", "sagas", "breakers", "order",
                                               "definitions", "timers"};
enum family : size_t {
  f_default, f_events, f_sagas, f_breakers, f_order, f_definitions, f_timers, family_count
};

/// A RocksDB status as the log's own: ok, or `what: ` and RocksDB's text.
inline status from(const rocksdb::Status& s, const std::string& what) {
  if (s.ok())
    return status::ok();
  return status::error(what + ": " + s.ToString());
}

struct event_log::impl {
  std::string dir;
  log_options opts;
  /// A writer's under `durability: sync`: its file system fences the WAL
  /// (wal_fence_impl.hpp), and outlives the database. Null otherwise.
  std::shared_ptr<wal_fence> fence;
  std::unique_ptr<rocksdb::Env> env;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  std::uint64_t next_position = 1; ///< Next key of the order family.
  /// Kept from one write() to the next, with its buffer: a new one for
  /// every batch cost a fresh mapping, and page faults, each time.
  rocksdb::WriteBatch batch;

  /// Replication (event_log::lead): writes from the writer, definitions and
  /// retention take their positions and are shipped one at a time, in order.
  std::mutex replication_mutex;
  replication_mark mark;
  std::uint64_t leading_epoch = 0; ///< 0: not leading, writes are not stamped.
  std::function<void(const replicated_batch&)> ship;

  ~impl() {
    for (auto* h : families)
      if (h != nullptr && db)
        db->DestroyColumnFamilyHandle(h);
    if (db)
      db->Close();
  }

  rocksdb::ColumnFamilyHandle* cf(family f) const { return families[f]; }

  /// How a write of the log's durability goes: synced under `sync` unless
  /// `defer_sync` (sync_wal() then), without the WAL under `none`.
  rocksdb::WriteOptions write_options(bool defer_sync = false) const {
    rocksdb::WriteOptions wo;
    wo.sync = opts.durability == config::durability::sync && !defer_sync;
    wo.disableWAL = opts.durability == config::durability::none;
    return wo;
  }

  /// RocksDB's write of `wb`. One to be synced is written, then synced as
  /// sync_wal() syncs, so that no sync RocksDB makes itself can be under
  /// way when a write to the WAL fails (wal_fence_impl.hpp): the same durability,
  /// acknowledged only once synced.
  rocksdb::Status write(rocksdb::WriteOptions wo, rocksdb::WriteBatch& wb) {
    if (!wo.sync || !fence)
      return db->Write(wo, &wb);
    wo.sync = false;
    if (auto s = db->Write(wo, &wb); !s.ok())
      return s;
    return sync_wal();
  }

  /// Every WAL file synced up to the current one, behind the fence.
  rocksdb::Status sync_wal() {
    if (!fence)
      return db->SyncWAL();
    return fence->sync([this] { return db->SyncWAL(); });
  }

  /// Every write of the log: `wb` as it is, or, while the log leads,
  /// stamped with its place in the replicated log and shipped once written
  /// (event_log_replication.cpp).
  rocksdb::Status commit(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& wb);
};

} // namespace nexus::storage
