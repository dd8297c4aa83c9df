#include "storage/event_log.hpp"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <algorithm>
#include <limits>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/version.h>
#include <rocksdb/write_batch.h>

#include "storage/keys.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

namespace {

/// RocksDB's info log, kept in `<dir>/LOG` as RocksDB would, except that a
/// full disk or an I/O error only loses log lines: RocksDB's own logger
/// aborts (in Debian's assert-enabled build) on the append after a failed
/// one, which would turn a full disk into a crash. It also remembers the
/// newest line that reports corruption, which is where RocksDB names a
/// damaged file.
class rocksdb_logger final : public rocksdb::Logger {
public:
  /// Watches for damage to files of `dir`; writes to `dir`/LOG if `write`.
  rocksdb_logger(const std::string& dir, bool write);
  ~rocksdb_logger() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;

  /// The newest logged line that reports corruption of a file in the
  /// directory, or else the newest that reports corruption at all, or "".
  std::string last_corruption() const;

private:
  mutable std::mutex mtx_;
  std::FILE* file_ = nullptr;
  bool file_failed_ = false;
  std::string dir_;
  std::string last_corruption_;
  std::string file_corruption_;
};


rocksdb_logger::rocksdb_logger(const std::string& dir, bool write)
  : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), dir_(dir + "/") {
  if (write)
    file_ = std::fopen((dir + "/LOG").c_str(), "a");
}

rocksdb_logger::~rocksdb_logger() {
  if (file_ != nullptr)
    std::fclose(file_);
}

void rocksdb_logger::Logv(const char* format, va_list ap) {
  Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
}

void rocksdb_logger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel())
    return;
  char buf[1024];
  std::vsnprintf(buf, sizeof(buf), format, ap);
  std::string line{buf};
  std::lock_guard<std::mutex> guard{mtx_};
  if (line.find("Corruption") != std::string::npos) {
    last_corruption_ = line;
    if (auto at = line.find(dir_); at != std::string::npos)
      file_corruption_ = line.substr(at);
  }
  if (file_ == nullptr || file_failed_)
    return;
  // A failed write (disk full) stops the file, never the database.
  if (std::fprintf(file_, "%s %s\n", format_timestamp(now_us()).c_str(), buf) < 0
      || std::fflush(file_) != 0)
    file_failed_ = true;
}

std::string rocksdb_logger::last_corruption() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return file_corruption_.empty() ? last_corruption_ : file_corruption_;
}


// Persisted: the family names are part of the on-disk format.
constexpr const char* family_names[] = {"default", "events", "sagas", "breakers", "order"};
enum family : size_t { f_default, f_events, f_sagas, f_breakers, f_order, family_count };

std::string open_error(const std::string& dir, const rocksdb::Status& s,
                       const rocksdb_logger& logger) {
  auto text = s.ToString();
  if (s.IsIOError() && text.find("lock") != std::string::npos)
    return "event log in " + dir + " is in use by another process (" + dir
           + "/LOCK is held): stop that process or use another --data-dir";
  if (s.IsCorruption()) {
    // Add RocksDB's log line only where the status itself names no file.
    auto details = text.find(dir + "/") == std::string::npos ? logger.last_corruption() : "";
    return "event log in " + dir + " is corrupted: " + text
           + (details.empty() ? "" : " (" + details + ")")
           + "; nothing was started. Restore the directory from a backup, or move it aside";
  }
  return "cannot open the event log in " + dir + ": " + text;
}

status from(const rocksdb::Status& s, const std::string& what) {
  if (s.ok())
    return status::ok();
  return status::error(what + ": " + s.ToString());
}

} // namespace

/// The saga an event key belongs to: `<cid>` 0x00. A saga's events are
/// written in sequence order, so the memtable keeps, per saga, where its
/// last event went and inserts the next one there, instead of searching
/// the whole skip list from the top (which the profile of a busy writer
/// showed as its largest cost).
///
/// Only whole event keys (`<cid>` 0x00 and 8 bytes) are in the domain:
/// RocksDB 7.8 keeps one hint per prefix for both of a memtable's tables,
/// so a range deletion under the same prefix (retention deletes
/// [`<cid>` 0x00, `<cid>` 0x01)) would be inserted with a hint into the
/// point-key table, and corrupt it (fixed in later RocksDB, which gives
/// hints to point keys only). Retention's bounds are never whole event keys.
class saga_prefix final : public rocksdb::SliceTransform {
public:
  const char* Name() const override { return "nexus.saga_prefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), key.size() - 8};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return key.size() > 9 && key[key.size() - 9] == '\0';
  }
};

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

event_log::event_log(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

event_log::~event_log() = default;

const std::string& event_log::dir() const {
  return impl_->dir;
}

std::unique_ptr<event_log> event_log::open(const log_options& opts, std::string& error) {
  auto p = std::make_unique<impl>();
  p->dir = opts.dir;
  p->opts = opts;
  rocksdb::Options db_opts;
  bool reader = opts.read_only || !opts.secondary_dir.empty();
  db_opts.create_if_missing = !reader;
  db_opts.create_missing_column_families = !reader;
  if (!reader) {
    std::error_code ec;
    std::filesystem::create_directories(opts.dir, ec);
    if (ec) {
      error = "cannot create the event log directory " + opts.dir + ": " + ec.message();
      return nullptr;
    }
  }
  // Readers keep their RocksDB log lines in memory: they must not write into
  // the directory of a writer.
  auto logger = std::make_shared<rocksdb_logger>(opts.dir, !reader);
  db_opts.info_log = logger;
  db_opts.paranoid_checks = true;
  // A torn last record is what a crash mid-write leaves, never acknowledged;
  // any other damage must stop the start instead of silently dropping
  // acknowledged events (the default, point-in-time mode, drops them).
  db_opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_opts.IncreaseParallelism(2);
  // A restart after a crash replays the WAL into the memtable and goes on
  // from there: writing it out as a table first (the default) made the
  // open take seconds, in the way of every saga waiting to resume. The WAL
  // stays until the memtable is flushed as usual.
  db_opts.avoid_flush_during_recovery = true;
  // A WAL file goes only once every family's data in it is flushed, and the
  // small families (sagas, order) fill their write buffers slowly: left to
  // the default (four times all the write buffers), a crashed run's restart
  // read back every WAL since its start. Bounded here, the small families
  // are flushed as the WAL reaches this size, and a restart replays at most
  // about this much.
  db_opts.max_total_wal_size = 32ull << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (auto name : family_names) {
    rocksdb::ColumnFamilyOptions cf_opts{db_opts};
    if (std::string_view{name} == family_names[f_events])
      cf_opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<saga_prefix>();
    descs.emplace_back(name, cf_opts);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  // A writer creates a new log in steps: DB::Open writes CURRENT with the
  // default family alone, then adds ours one by one. A reader that comes in
  // between (nexus sagas as a run starts) finds a family missing: it waits
  // for the writer to finish, a second at most, rather than fail.
  auto being_created = [](const rocksdb::Status& st) {
    return st.IsInvalidArgument()
           && st.ToString().find("Column family not found") != std::string::npos;
  };
  for (int tries = 0;; ++tries) {
    if (!opts.secondary_dir.empty()) {
      p->opts.read_only = true;
      db_opts.max_open_files = -1; // required of secondary instances
      s = rocksdb::DB::OpenAsSecondary(db_opts, opts.dir, opts.secondary_dir, descs, &p->families,
                                       &raw);
    } else if (opts.read_only) {
      s = rocksdb::DB::OpenForReadOnly(db_opts, opts.dir, descs, &p->families, &raw);
    } else {
      s = rocksdb::DB::Open(db_opts, opts.dir, descs, &p->families, &raw);
    }
    if (!opts.read_only || !being_created(s) || tries == 100)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!s.ok()) {
    error = open_error(opts.dir, s, *logger);
    return nullptr;
  }
  p->db.reset(raw);
  std::unique_ptr<event_log> log{new event_log(std::move(p))};
  if (auto st = log->find_next_position(); !st) {
    error = st.message();
    return nullptr;
  }
  return log;
}

status event_log::find_next_position() {
  auto& d = *impl_;
  // The order family's last key tells where the global order continues.
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_order))};
  it->SeekToLast();
  if (it->Valid()) {
    std::uint64_t last = 0;
    if (!decode_u64(it->key().ToStringView(), last))
      return status::error("event log in " + d.dir + " has a malformed order index key");
    d.next_position = last + 1;
  }
  return from(it->status(), "cannot read the event log in " + d.dir);
}

std::uint64_t event_log::next_position() const {
  return impl_->next_position;
}

status event_log::catch_up() {
  auto& d = *impl_;
  if (d.opts.secondary_dir.empty())
    return status::error("only a secondary instance catches up");
  if (auto s = d.db->TryCatchUpWithPrimary(); !s.ok())
    return from(s, "cannot follow the event log in " + d.dir);
  return find_next_position();
}

status event_log::read_in_order(std::uint64_t position,
                                const std::function<bool(std::uint64_t, std::string_view)>& visit,
                                std::string_view only_cid) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_order))};
  std::string value;
  for (it->Seek(encode_u64(position)); it->Valid(); it->Next()) {
    std::uint64_t pos = 0;
    if (!decode_u64(it->key().ToStringView(), pos))
      return status::error("event log in " + d.dir + " has a malformed order index key");
    status bad = status::ok();
    bool go_on = true;
    auto ok = for_each_order_entry(it->value().ToStringView(), [&](std::string_view cid, std::uint64_t seq) {
      if (!only_cid.empty() && cid != only_cid)
        return true;
      auto s = d.db->Get({}, d.cf(f_events), event_key(cid, seq), &value);
      if (s.IsNotFound())
        return true; // removed by retention
      if (!s.ok()) {
        bad = from(s, "cannot read an event from " + d.dir);
        return false;
      }
      go_on = visit(pos, value);
      return go_on;
    });
    if (!ok)
      return status::error("event log in " + d.dir + " has a malformed order index entry");
    if (!bad || !go_on)
      return bad;
  }
  return from(it->status(), "cannot read the order index of " + d.dir);
}

status event_log::write(const std::vector<const append_request*>& batch) {
  auto& d = *impl_;
  if (d.opts.read_only)
    return status::error("event log in " + d.dir + " is open read-only");
  // Counting into RocksDB's thread-local perf context on every key
  // comparison costs more than it tells (nothing reads it).
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  auto& wb = d.batch;
  wb.Clear();
  std::string row, order;
  for (auto* req : batch) {
    for (auto& [seq, json] : req->events) {
      if (auto s = wb.Put(d.cf(f_events), event_key(req->cid, seq), json); !s.ok())
        return from(s, "cannot stage an event");
      append_order_entry(order, req->cid, seq);
    }
    if (req->breaker) {
      constexpr std::string_view prefix = "breaker:";
      if (req->cid.rfind(prefix, 0) != 0)
        return status::error("a breaker row needs a breaker:<resource> ID, got " + req->cid);
      row.clear();
      encode_breaker_row(*req->breaker, row);
      if (auto s = wb.Put(d.cf(f_breakers), req->cid.substr(prefix.size()), row); !s.ok())
        return from(s, "cannot stage a breaker row");
    }
    if (!req->row)
      continue;
    row.clear();
    encode_saga_row(*req->row, row);
    if (auto s = wb.Put(d.cf(f_sagas), req->cid, row); !s.ok())
      return from(s, "cannot stage a saga row");
  }
  // One order entry per batch keeps the global order at a fraction of the
  // cost of one per event.
  if (!order.empty())
    if (auto s = wb.Put(d.cf(f_order), encode_u64(d.next_position), order); !s.ok())
      return from(s, "cannot stage the order index");
  rocksdb::WriteOptions wo;
  wo.sync = d.opts.durability == config::durability::sync;
  wo.disableWAL = d.opts.durability == config::durability::none;
  auto s = d.db->Write(wo, &wb);
  if (!s.ok())
    return from(s, "cannot write to the event log in " + d.dir);
  if (!order.empty())
    ++d.next_position;
  return status::ok();
}

status event_log::expire(std::int64_t cutoff_us, std::uint64_t& sagas_expired) {
  auto& d = *impl_;
  sagas_expired = 0;
  if (d.opts.read_only)
    return status::error("event log in " + d.dir + " is open read-only");
  constexpr std::uint64_t sagas_per_batch = 256;
  rocksdb::WriteBatch wb;
  std::uint64_t in_batch = 0;
  rocksdb::WriteOptions wo;
  wo.sync = d.opts.durability == config::durability::sync;
  auto commit = [&]() -> status {
    if (in_batch == 0)
      return status::ok();
    if (auto s = d.db->Write(wo, &wb); !s.ok())
      return from(s, "cannot remove expired events from " + d.dir);
    sagas_expired += in_batch;
    wb.Clear();
    in_batch = 0;
    return status::ok();
  };
  std::string row_json;
  status failed = status::ok();
  auto st = for_each_saga([&](std::string_view cid, const saga_row& row) {
    if (row.expired || !is_terminal(row.status) || row.updated_us >= cutoff_us)
      return true;
    // All keys of `cid` lie in [cid 0x00, cid 0x01): no ID holds either byte.
    auto begin = event_prefix(cid);
    auto end = std::string{cid} + '\x01';
    auto expired = row;
    expired.expired = true;
    row_json.clear();
    encode_saga_row(expired, row_json);
    rocksdb::Status s = wb.DeleteRange(d.cf(f_events), begin, end);
    if (s.ok())
      s = wb.Put(d.cf(f_sagas), rocksdb::Slice{cid.data(), cid.size()}, row_json);
    if (!s.ok()) {
      failed = from(s, "cannot stage a retention delete");
      return false;
    }
    if (++in_batch == sagas_per_batch)
      failed = commit();
    return failed.is_ok();
  });
  if (!st)
    return st;
  if (!failed)
    return failed;
  return commit();
}

namespace {

/// Visits the stored events of `cid` with from <= seq <= to through `it`.
status scan_saga(rocksdb::Iterator& it, const std::string& dir, std::string_view cid,
                 std::uint64_t from_seq, std::uint64_t to_seq,
                 const std::function<bool(std::uint64_t, std::string_view)>& visit) {
  auto prefix = event_prefix(cid);
  for (it.Seek(event_key(cid, from_seq)); it.Valid(); it.Next()) {
    auto key = it.key().ToStringView();
    if (key.substr(0, prefix.size()) != prefix)
      break;
    std::string_view kcid;
    std::uint64_t seq = 0;
    if (!decode_event_key(key, kcid, seq))
      return status::error("malformed event key in " + dir);
    if (seq > to_seq)
      break;
    if (!visit(seq, it.value().ToStringView()))
      return status::ok();
  }
  return from(it.status(), "cannot read events from " + dir);
}

/// Decodes each stored event for `visit`.
std::function<bool(std::uint64_t, std::string_view)> decoding(
  std::string_view cid, const std::string& dir, const std::function<bool(const event&)>& visit,
  event& e, status& bad) {
  return [&, cid](std::uint64_t seq, std::string_view json) {
    std::string err;
    if (!decode_event(json, e, err)) {
      bad = status::error("event " + std::to_string(seq) + " of " + std::string{cid} + " in "
                          + dir + ": " + err);
      return false;
    }
    return visit(e);
  };
}

} // namespace

status event_log::read_raw(
  std::string_view cid, std::uint64_t from_seq, std::uint64_t to_seq,
  const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  auto& d = *impl_;
  auto upper = event_key(cid, to_seq == std::numeric_limits<std::uint64_t>::max() ? to_seq : to_seq + 1);
  rocksdb::Slice upper_slice{upper};
  rocksdb::ReadOptions ro;
  if (to_seq != std::numeric_limits<std::uint64_t>::max())
    ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator(ro, d.cf(f_events))};
  return scan_saga(*it, d.dir, cid, from_seq, to_seq, visit);
}

struct event_cursor::impl {
  std::string dir;
  std::unique_ptr<rocksdb::Iterator> it;
  event e;
};

event_cursor::event_cursor(std::unique_ptr<impl> p) : impl_(std::move(p)) {
}

event_cursor::~event_cursor() = default;

status event_cursor::read_events(std::string_view cid,
                                 const std::function<bool(const event&)>& visit) {
  auto& c = *impl_;
  status bad = status::ok();
  auto st = scan_saga(*c.it, c.dir, cid, 1, std::numeric_limits<std::uint64_t>::max(),
                      decoding(cid, c.dir, visit, c.e, bad));
  return st ? bad : st;
}

std::unique_ptr<event_cursor> event_log::cursor() const {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  auto c = std::make_unique<event_cursor::impl>();
  c->dir = impl_->dir;
  c->it.reset(impl_->db->NewIterator({}, impl_->cf(f_events)));
  return std::unique_ptr<event_cursor>{new event_cursor{std::move(c)}};
}

status event_log::for_each_event(
  const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto& d = *impl_;
  rocksdb::ReadOptions ro;
  ro.fill_cache = false; // one pass over everything: keep the cache for others
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator(ro, d.cf(f_events))};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view cid;
    std::uint64_t seq = 0;
    if (!decode_event_key(it->key().ToStringView(), cid, seq))
      return status::error("malformed event key in " + d.dir);
    if (!visit(cid, it->value().ToStringView()))
      return status::ok();
  }
  return from(it->status(), "cannot read events from " + d.dir);
}

std::string event_log::rocksdb_version() {
  return rocksdb::GetRocksVersionAsString(true);
}

status event_log::read_events(std::string_view cid, std::uint64_t from_seq, std::uint64_t to_seq,
                              const std::function<bool(const event&)>& visit) const {
  status bad = status::ok();
  event e;
  auto st = read_raw(cid, from_seq, to_seq, decoding(cid, impl_->dir, visit, e, bad));
  return st ? bad : st;
}

status event_log::for_each_saga(
  const std::function<bool(std::string_view, const saga_row&)>& visit,
  std::string_view after) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_sagas))};
  saga_row row;
  std::string err;
  if (after.empty())
    it->SeekToFirst();
  else
    it->Seek(rocksdb::Slice{after.data(), after.size()});
  for (; it->Valid(); it->Next()) {
    auto cid = it->key().ToStringView();
    if (!after.empty() && cid == after)
      continue;
    if (!decode_saga_row(it->value().ToStringView(), row, err))
      return status::error("saga " + std::string{cid} + " in " + d.dir + ": " + err);
    if (!visit(cid, row))
      return status::ok();
  }
  return from(it->status(), "cannot read sagas from " + d.dir);
}

status event_log::live_row(std::string_view cid, saga_row& row) const {
  std::int64_t done = 0;
  auto st = read_events(cid, 1, std::numeric_limits<std::uint64_t>::max(), [&](const event& e) {
    row.last_seq = e.seq;
    row.updated_us = e.ts_us;
    if (e.type == event_type::step_succeeded)
      ++done;
    else if (e.type == event_type::compensation_succeeded)
      --done;
    return true;
  });
  row.steps_done = static_cast<std::uint32_t>(std::max<std::int64_t>(0, done));
  return st;
}

std::optional<saga_row> event_log::find_saga(std::string_view cid, status& st) const {
  auto& d = *impl_;
  std::string value;
  auto s = d.db->Get({}, d.cf(f_sagas), rocksdb::Slice{cid.data(), cid.size()}, &value);
  st = status::ok();
  if (s.IsNotFound())
    return std::nullopt;
  if (!s.ok()) {
    st = from(s, "cannot read saga " + std::string{cid} + " from " + d.dir);
    return std::nullopt;
  }
  saga_row row;
  std::string err;
  if (!decode_saga_row(value, row, err)) {
    st = status::error("saga " + std::string{cid} + " in " + d.dir + ": " + err);
    return std::nullopt;
  }
  return row;
}

status event_log::for_each_breaker(
  const std::function<bool(std::string_view, const breaker_row&)>& visit) const {
  auto& d = *impl_;
  std::unique_ptr<rocksdb::Iterator> it{d.db->NewIterator({}, d.cf(f_breakers))};
  breaker_row row;
  std::string err;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto resource = it->key().ToStringView();
    if (!decode_breaker_row(it->value().ToStringView(), row, err))
      return status::error("breaker " + std::string{resource} + " in " + d.dir + ": " + err);
    if (!visit(resource, row))
      return status::ok();
  }
  return from(it->status(), "cannot read breakers from " + d.dir);
}

std::optional<breaker_row> event_log::find_breaker(std::string_view resource, status& st) const {
  auto& d = *impl_;
  std::string value;
  auto s = d.db->Get({}, d.cf(f_breakers), rocksdb::Slice{resource.data(), resource.size()}, &value);
  st = status::ok();
  if (s.IsNotFound())
    return std::nullopt;
  if (!s.ok()) {
    st = from(s, "cannot read breaker " + std::string{resource} + " from " + d.dir);
    return std::nullopt;
  }
  breaker_row row;
  std::string err;
  if (!decode_breaker_row(value, row, err)) {
    st = status::error("breaker " + std::string{resource} + " in " + d.dir + ": " + err);
    return std::nullopt;
  }
  return row;
}

std::uint64_t event_log::memory_bytes() const {
  auto& d = *impl_;
  std::uint64_t total = 0;
  for (std::size_t f = 0; f < family_count; ++f)
    for (auto* property : {"rocksdb.cur-size-all-mem-tables", "rocksdb.estimate-table-readers-mem"}) {
      std::uint64_t v = 0;
      if (d.db->GetIntProperty(d.cf(static_cast<family>(f)), property, &v))
        total += v;
    }
  return total;
}

} // namespace nexus::storage
