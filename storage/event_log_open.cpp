// Opening the event log: RocksDB's options and column families, its info
// log, the recovery of the order index's position, and a secondary's catch-up.
#include "storage/event_log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/version.h>

#include "storage/event_log_impl.hpp"
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
    if (auto st = finish_install(opts.dir); !st) {
      error = st.message();
      return nullptr;
    }
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
  // about this much: 16 MiB, some 0.13 s to open a killed 100,000-saga run
  // (32 MiB took 0.2-0.3 s), for flushes twice as often and half as large
  // (no change in the closed loop's rate or CPU a saga, `nexus bench`).
  db_opts.max_total_wal_size = 16ull << 20;
  // A writer that syncs the WAL from another thread than it writes from
  // fences its WAL files (wal_fence_impl.hpp says why).
  if (!reader && opts.durability == config::durability::sync) {
    p->fence = std::make_shared<wal_fence>();
    p->env = rocksdb::NewCompositeEnv(fenced_file_system(rocksdb::FileSystem::Default(), p->fence));
    db_opts.env = p->env.get();
  }
  // A reader of a log written before the definitions or timers family
  // existed opens it without them.
  std::vector<bool> absent(family_count, false);
  if (reader) {
    std::vector<std::string> present;
    if (rocksdb::DB::ListColumnFamilies(db_opts, opts.dir, &present).ok()) {
      auto has = [&](const char* name) {
        return std::find(present.begin(), present.end(), name) != present.end();
      };
      if (has(family_names[f_order]))
        for (auto f : {f_definitions, f_timers})
          absent[f] = !has(family_names[f]);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (std::size_t f = 0; f < family_count; ++f) {
    if (absent[f])
      continue;
    rocksdb::ColumnFamilyOptions cf_opts{db_opts};
    if (f == f_events)
      cf_opts.memtable_insert_with_hint_prefix_extractor = std::make_shared<saga_prefix>();
    if (f == f_sagas) {
      // Every start looks its correlation ID up here (a duplicate?), and
      // nearly every one is new: Bloom filters, in the tables and in the
      // memtable, answer "absent" without a search (it was a fortieth of
      // a saga's CPU, in the closed loop, and grows with the tables).
      rocksdb::BlockBasedTableOptions table;
      table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
      cf_opts.memtable_prefix_bloom_size_ratio = 0.05;
      cf_opts.memtable_whole_key_filtering = true;
    }
    descs.emplace_back(family_names[f], cf_opts);
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  // A reader beside a running writer tries again, for a second at most,
  // rather than fail, where the writer was midway:
  // - creating the log: DB::Open writes CURRENT with the default family
  //   alone, then adds ours one by one, and a reader that comes in between
  //   (nexus sagas as a run starts) finds a family missing;
  // - deleting a file the reader had just found named: a WAL once its
  //   memtables are flushed, a table once compacted, a MANIFEST once rolled
  //   (nexus events during a busy run failed so, one open in some thirty).
  //   The next try reads the newer state, which no longer names it. (A
  //   directory with no log in it at all is not retried.)
  auto being_changed = [&opts](const rocksdb::Status& st) {
    if (st.IsInvalidArgument())
      return st.ToString().find("Column family not found") != std::string::npos;
    std::error_code ec;
    return st.IsPathNotFound() && std::filesystem::exists(opts.dir + "/CURRENT", ec);
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
    if (!opts.read_only || !being_changed(s) || tries == 100)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!s.ok()) {
    error = open_error(opts.dir, s, *logger);
    return nullptr;
  }
  p->db.reset(raw);
  // Handles in family order, a null one for each family left out.
  for (std::size_t f = 0; f < family_count; ++f)
    if (absent[f])
      p->families.insert(p->families.begin() + static_cast<std::ptrdiff_t>(f), nullptr);
  std::unique_ptr<event_log> log{new event_log(std::move(p))};
  if (auto st = log->find_next_position(); !st) {
    error = st.message();
    return nullptr;
  }
  if (auto st = log->load_mark(); !st) {
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

std::string event_log::rocksdb_version() {
  return rocksdb::GetRocksVersionAsString(true);
}

std::uint64_t event_log::memory_bytes() const {
  auto& d = *impl_;
  std::uint64_t total = 0;
  for (std::size_t f = 0; f < family_count; ++f)
    for (auto* property : {"rocksdb.cur-size-all-mem-tables", "rocksdb.estimate-table-readers-mem"}) {
      std::uint64_t v = 0;
      if (d.cf(static_cast<family>(f)) != nullptr
          && d.db->GetIntProperty(d.cf(static_cast<family>(f)), property, &v))
        total += v;
    }
  return total;
}

} // namespace nexus::storage
