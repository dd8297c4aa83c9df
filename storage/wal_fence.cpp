#include "storage/wal_fence_impl.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace nexus::storage {

rocksdb::Status wal_fence::sync(const std::function<rocksdb::Status()>& sync) {
  std::lock_guard<std::timed_mutex> lock{m_};
  if (failed())
    return rocksdb::Status::IOError("not synced: a write to the WAL failed before");
  return sync();
}

void wal_fence::write_failed() {
  std::unique_lock<std::timed_mutex> lock{m_, std::defer_lock};
  (void)lock.try_lock_for(bound); // marked either way
  failed_.store(true, std::memory_order_release);
}

namespace {

using rocksdb::DataVerificationInfo;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

class fenced_wal_file : public rocksdb::FSWritableFileOwnerWrapper {
public:
  fenced_wal_file(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<wal_fence> fence)
    : FSWritableFileOwnerWrapper(std::move(file)), fence_(std::move(fence)) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    return wrote(target()->Append(data, o, dbg));
  }
  IOStatus Append(const Slice& data, const IOOptions& o, const DataVerificationInfo& v,
                  IODebugContext* dbg) override {
    return wrote(target()->Append(data, o, v, dbg));
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    return wrote(target()->PositionedAppend(data, offset, o, dbg));
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const DataVerificationInfo& v, IODebugContext* dbg) override {
    return wrote(target()->PositionedAppend(data, offset, o, v, dbg));
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    return wrote(target()->Truncate(size, o, dbg));
  }
  IOStatus Flush(const IOOptions& o, IODebugContext* dbg) override {
    return wrote(target()->Flush(o, dbg));
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& o,
                    IODebugContext* dbg) override {
    return wrote(target()->Allocate(offset, len, o, dbg));
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    return synced(target()->Sync(o, dbg));
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    return synced(target()->Fsync(o, dbg));
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o,
                     IODebugContext* dbg) override {
    return synced(target()->RangeSync(offset, nbytes, o, dbg));
  }

private:
  IOStatus wrote(IOStatus s) {
    if (!s.ok())
      fence_->write_failed();
    return s;
  }
  IOStatus synced(IOStatus s) {
    if (!s.ok())
      fence_->sync_failed();
    return s;
  }

  std::shared_ptr<wal_fence> fence_;
};

class fenced_fs : public rocksdb::FileSystemWrapper {
public:
  fenced_fs(std::shared_ptr<rocksdb::FileSystem> base, std::shared_ptr<wal_fence> fence)
    : FileSystemWrapper(std::move(base)), fence_(std::move(fence)) {}

  static const char* kClassName() { return "NexusFencedFileSystem"; }
  const char* Name() const override { return kClassName(); }

  IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                           std::unique_ptr<rocksdb::FSWritableFile>* r,
                           IODebugContext* dbg) override {
    return wrap(f, target()->NewWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                              std::unique_ptr<rocksdb::FSWritableFile>* r,
                              IODebugContext* dbg) override {
    return wrap(f, target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  IOStatus ReuseWritableFile(const std::string& f, const std::string& old,
                             const rocksdb::FileOptions& o,
                             std::unique_ptr<rocksdb::FSWritableFile>* r,
                             IODebugContext* dbg) override {
    return wrap(f, target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }

private:
  IOStatus wrap(const std::string& name, IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* r) {
    static constexpr std::string_view suffix = ".log";
    bool wal = name.size() > suffix.size()
               && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    if (s.ok() && wal)
      *r = std::make_unique<fenced_wal_file>(std::move(*r), fence_);
    return s;
  }

  std::shared_ptr<wal_fence> fence_;
};

} // namespace

std::shared_ptr<rocksdb::FileSystem> fenced_file_system(std::shared_ptr<rocksdb::FileSystem> base,
                                                        std::shared_ptr<wal_fence> fence) {
  return std::make_shared<fenced_fs>(std::move(base), std::move(fence));
}

} // namespace nexus::storage
