#pragma once

// Keeps a WAL sync from ever starting on a WAL file whose write failed:
// private to storage/, never included elsewhere.
//
// RocksDB 7.8 as Debian builds it keeps its assertions, and one of them
// aborts the process when DB::SyncWAL() meets a WAL file whose last write
// failed on another thread: WritableFileWriter::SyncWithoutFlush asserts that
// only a sync of its own could have failed before it (writable_file_writer.h,
// AssertFalseAndGetStatusForPrevError). The log's writer writes the next
// batch while its syncer syncs the last, so a full disk under that pipeline
// aborted the run (SIGABRT) about one time in six instead of failing it
// (tests/storage/disk_full_test.sh). RocksDB offers no hook between a failed
// append and its writer marking itself failed, so the fence sits below it, in
// the file system: a write to a WAL file that fails waits out any sync in
// progress, then marks the fence failed before RocksDB hears of it, and a
// sync holds the fence from its look at that mark to its end. Writes that
// succeed never touch the fence: the pipeline stays a pipeline.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include <rocksdb/file_system.h>
#include <rocksdb/status.h>

namespace nexus::storage {

class wal_fence {
public:
  /// Runs `sync` unless a write to a WAL file has failed (then an error and
  /// no sync); no write fails on a WAL file while it runs.
  rocksdb::Status sync(const std::function<rocksdb::Status()>& sync);

  /// A write to a WAL file failed: waits for a sync in progress to end, at
  /// most `bound` (a sync stuck behind this very write inside RocksDB must
  /// not hang it for good), and marks the fence.
  void write_failed();

  /// A sync of a WAL file failed: marked at once, without waiting, since it
  /// may be the fenced sync itself that failed.
  void sync_failed() { failed_.store(true, std::memory_order_release); }

  bool failed() const { return failed_.load(std::memory_order_acquire); }

  static constexpr std::chrono::seconds bound{10};

private:
  std::timed_mutex m_;
  std::atomic<bool> failed_{false};
};

/// `base`, with every WAL file (a name ending in `.log`) it opens for
/// writing reporting its failures to `fence`.
std::shared_ptr<rocksdb::FileSystem> fenced_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                        std::shared_ptr<wal_fence> fence);

} // namespace nexus::storage
