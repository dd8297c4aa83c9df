#pragma once

// The RocksDB side of the event log, shared by its translation units
// (event_log_open, _read, _write, _retention): private to storage/, never
// included elsewhere (tests/layering_test.sh checks it).

#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "storage/event_log.hpp"

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
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  std::uint64_t next_position = 1; ///< Next key of the order family.
  /// Kept from one write() to the next, with its buffer: a new one for
  /// every batch cost a fresh mapping, and page faults, each time.
  rocksdb::WriteBatch batch;

  ~impl() {
    for (auto* h : families)
      if (h != nullptr && db)
        db->DestroyColumnFamilyHandle(h);
    if (db)
      db->Close();
  }

  rocksdb::ColumnFamilyHandle* cf(family f) const { return families[f]; }
};

} // namespace nexus::storage
