#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/workflow.hpp"
#include "storage/append_request.hpp"
#include "storage/event.hpp"

namespace nexus::storage {

/// Outcome of a storage call: empty message on success.
class status {
public:
  static status ok() { return status{}; }
  static status error(std::string message) { return status{std::move(message)}; }

  bool is_ok() const { return message_.empty(); }
  explicit operator bool() const { return is_ok(); }
  const std::string& message() const { return message_; }

private:
  status() = default;
  explicit status(std::string m) : message_(std::move(m)) {}
  std::string message_;
};


struct log_options {
  std::string dir = ".nexus";
  config::durability durability = config::durability::sync;
  bool read_only = false;  ///< Readers alongside a running writer.
  /// If set, open as a RocksDB secondary instance keeping its own files in
  /// this directory: a reader that follows a writer in another process
  /// (see catch_up()). Implies read_only.
  std::string secondary_dir;

  /// The one writer of the log in `dir`.
  static log_options writer(std::string dir, config::durability d) {
    log_options o;
    o.dir = std::move(dir);
    o.durability = d;
    return o;
  }
  /// A one-shot reader beside a running writer.
  static log_options reader(std::string dir) {
    log_options o;
    o.dir = std::move(dir);
    o.read_only = true;
    return o;
  }
  /// A reader that follows a writer in another process.
  static log_options follower(std::string dir, std::string secondary) {
    auto o = reader(std::move(dir));
    o.secondary_dir = std::move(secondary);
    return o;
  }
};

/// One write batch of a replicated log, as its leader ships it to the
/// followers (docs/ha.md): whatever the leader wrote in one atomic write
/// (events, rows, definitions, retention's deletes), with where it stands.
struct replicated_batch {
  std::uint64_t epoch = 0;      ///< The leader's: its etcd revision.
  std::uint64_t position = 0;   ///< 1, 2, ...: its place in the replicated log.
  std::uint64_t prev_epoch = 0; ///< The epoch of the batch at position - 1 (0: none).
  std::string data;             ///< The RocksDB write batch as written (its stamp included).
};

/// Where a log stands in replication: its last batch. Each batch carries
/// it, written in the same atomic write, so a log knows it after a crash.
struct replication_mark {
  std::uint64_t epoch = 0;
  std::uint64_t position = 0; ///< 0: no replicated batch yet.
};

/// A saga definition as the log keeps it (see config/definition.hpp), in
/// the `definitions` family under its hash.
struct stored_definition {
  std::string hash;        ///< SHA-256 of `json`, hex.
  std::string saga;        ///< The saga's name.
  std::int64_t stored_us = 0;
  std::string json;        ///< config::definition_json text, exactly as hashed.
};

/// Reads the events of many sagas, one saga after another, through one
/// RocksDB iterator: what recovery does for thousands of sagas in a row,
/// where making an iterator for each cost more than reading its events.
/// Sees the log as it was when made (event_log::cursor()); one thread at a
/// time; must not outlive its log.
class event_cursor {
public:
  ~event_cursor();
  event_cursor(const event_cursor&) = delete;
  event_cursor& operator=(const event_cursor&) = delete;

  /// As event_log::read_events(cid, 1, last, visit).
  status read_events(std::string_view cid, const std::function<bool(const event&)>& visit);

private:
  friend class event_log;
  struct impl;
  explicit event_cursor(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// The durable event log: one RocksDB database with the families `events`,
/// `sagas`, `breakers`, `order`, `definitions` and `timers` (see keys.hpp).
/// Thread-safe for reads; one thread at a time may call write().
class event_log {
public:
  /// Opens or creates the log; nullptr with `error` set on failure.
  static std::unique_ptr<event_log> open(const log_options& opts, std::string& error);

  ~event_log();
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  /// Writes every request in one atomic batch, with the global order index,
  /// honouring the durability setting. Nothing is visible unless all is.
  /// `bytes` (if given) gets the size of the batch's data as RocksDB
  /// writes it to its WAL (keys, values and record headers).
  /// `defer_sync`: under `durability: sync`, the batch goes to the WAL
  /// (the OS has it: it survives a crash of this process) without the
  /// fsync, and is visible at once; sync_wal() then makes it durable.
  /// Otherwise a sync write returns once its WAL is synced.
  status write(const std::vector<const append_request*>& batch, std::uint64_t* bytes = nullptr,
               bool defer_sync = false);

  /// Syncs the WAL: every batch whose write() returned before this call is
  /// durable once it returns ok. Safe beside a write() on another thread
  /// (RocksDB's SyncWAL; it does not block writes).
  status sync_wal();

  /// Whether write() with `defer_sync` leaves something for sync_wal().
  bool syncs() const;

  /// Visits the stored JSON of the events of `cid` with from <= seq <= to,
  /// in sequence order, one at a time; stops when `visit` returns false.
  status read_raw(std::string_view cid, std::uint64_t from, std::uint64_t to,
                  const std::function<bool(std::uint64_t seq, std::string_view json)>& visit) const;

  /// A reader of many sagas' events (see event_cursor).
  std::unique_ptr<event_cursor> cursor() const;

  /// As read_raw, decoding each event.
  status read_events(std::string_view cid, std::uint64_t from, std::uint64_t to,
                     const std::function<bool(const event&)>& visit) const;

  /// Visits the stored JSON of every event, sagas' and breakers', grouped
  /// by correlation ID and in sequence order within each; streams them, so
  /// memory does not grow with the log. Stops when `visit` returns false.
  status for_each_event(
    const std::function<bool(std::string_view cid, std::string_view json)>& visit) const;

  /// Visits every saga row in correlation-ID order; with `after`, only
  /// those whose ID sorts after it (a page's cursor).
  status for_each_saga(const std::function<bool(std::string_view cid, const saga_row&)>& visit,
                       std::string_view after = {}) const;

  /// The saga row of `cid`, if there is one.
  std::optional<saga_row> find_saga(std::string_view cid, status& st) const;

  /// Stores `d` under its hash, durably, unless it is there already; an
  /// error if the hash is there with other text (a damaged log), or the
  /// log is read-only.
  status store_definition(const stored_definition& d);

  /// The definition stored under `hash`, if there is one.
  std::optional<stored_definition> find_definition(std::string_view hash, status& st) const;

  /// Visits every stored definition, in hash order.
  status for_each_definition(const std::function<bool(const stored_definition&)>& visit) const;

  /// Visits the timers of parked sagas (see saga_row::parked) in due order
  /// (then by ID), from the first whose key sorts after `after` (a key
  /// given to an earlier visit; empty: from the first), as (wake time, ID,
  /// key). Stops when `visit` returns false.
  status for_each_timer(
    std::string_view after,
    const std::function<bool(std::int64_t wake_us, std::string_view cid, std::string_view key)>& visit)
    const;

  /// Visits every breaker row, in resource order.
  status for_each_breaker(
    const std::function<bool(std::string_view resource, const breaker_row&)>& visit) const;

  /// The breaker row of `resource`, if there is one.
  std::optional<breaker_row> find_breaker(std::string_view resource, status& st) const;

  /// Visits events in global write order from write batch `position` on,
  /// as (batch position, stored JSON); events removed by retention are
  /// skipped. With `only_cid`, only the events keyed by that correlation ID
  /// (matched on the key, never on the JSON). A visitor that stops stops
  /// after a whole batch or mid-batch.
  status read_in_order(std::uint64_t position,
                       const std::function<bool(std::uint64_t position, std::string_view json)>& visit,
                       std::string_view only_cid = {}) const;

  /// The position the next write batch will take.
  std::uint64_t next_position() const;

  /// Retention: removes the events of every saga that ended (terminal row)
  /// before `cutoff_us`, keeping its row, marked expired, so that its highest
  /// sequence number stays known and its ID is never reused. Writes in small
  /// batches beside the writer, never through it. Counts what it removed.
  status expire(std::int64_t cutoff_us, std::uint64_t& sagas_expired);

  /// Bytes RocksDB holds in memory for the log: its memtables (the write
  /// buffers, flushed at a fixed size) and its table readers.
  std::uint64_t memory_bytes() const;

  // -- replication (docs/ha.md) ---------------------------------------------

  /// From now on each write (write(), store_definition(), expire()) is a
  /// batch of the replicated log in `epoch`: stamped with the next position
  /// and its epoch, and handed to `ship` once written, in position order,
  /// on the writing thread, before the write returns. `epoch` must be newer
  /// than the mark's. The epoch's first batch, written and shipped here,
  /// holds only its stamp. Without lead() (the default), writes are not
  /// stamped.
  status lead(std::uint64_t epoch, std::function<void(const replicated_batch&)> ship);

  /// The last replicated batch this log holds.
  replication_mark replication() const;

  /// A follower writes a batch its leader shipped, whose place the caller
  /// has judged (runtime::replica_log): atomically, with its stamp. With
  /// `defer_sync`, as write()'s (sync_wal() makes it durable).
  status apply(const replicated_batch& b, bool defer_sync = false);

  /// A checkpoint of the log in `dir` (which must not exist): RocksDB's
  /// Checkpoint, hard links where it can, the WAL copied, no write between
  /// it and `mark`, the last batch it holds. Opened as a log, it is this one.
  status checkpoint(const std::string& dir, replication_mark& mark);

  /// Where a follower copies a checkpoint for the log in `dir`: beside it.
  static std::string incoming_dir(const std::string& dir);

  /// Puts the log copied into incoming_dir(dir) (a checkpoint's files,
  /// complete; synced here first) where the log in `dir` was, which no one
  /// may have open: by renames, so that a crash leaves one or the other whole;
  /// the next open() of `dir` for writing finishes what a crash interrupted.
  static status install(const std::string& dir);

  /// Secondary instances only: sees what the writer has written since.
  status catch_up();

  const std::string& dir() const;

  /// The version of RocksDB in use, such as "7.8.3".
  static std::string rocksdb_version();

private:
  struct impl;
  explicit event_log(std::unique_ptr<impl> p);
  status find_next_position();
  status load_mark();
  static status finish_install(const std::string& dir);
  std::unique_ptr<impl> impl_;
};

} // namespace nexus::storage
