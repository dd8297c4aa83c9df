// Replication of the event log (docs/ha.md): every write of a leading log
// stamped with its place in the replicated log and shipped; a follower's
// writes of what it was shipped; checkpoints for a follower that catches up.
//
// What is shipped is the RocksDB write batch itself (WriteBatch::Data()),
// not the events it holds: a follower applies exactly what the leader
// wrote, rows, timers, definitions and retention's deletes included, and
// nothing has to be encoded twice.
#include "storage/event_log.hpp"

#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include <rocksdb/utilities/checkpoint.h>

#include "storage/event_log_impl.hpp"
#include "storage/keys.hpp"

namespace nexus::storage {

namespace {

/// The key, in the default family, of the mark of the last batch held.
/// Persisted: part of the on-disk format.
constexpr std::string_view mark_key = "replication";

std::string encode_mark(const replication_mark& m) {
  return encode_u64(m.epoch) + encode_u64(m.position);
}

bool decode_mark(std::string_view bytes, replication_mark& m) {
  return bytes.size() == 16 && decode_u64(bytes.substr(0, 8), m.epoch)
         && decode_u64(bytes.substr(8), m.position);
}

std::string replaced_dir(const std::string& dir) {
  return dir + ".replaced";
}

/// fsync of a file, or of a directory (what was renamed in it).
bool sync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

/// Makes the renames in `dir`'s parent durable.
void sync_parent(const std::string& dir) {
  auto parent = std::filesystem::path{dir}.parent_path();
  sync_path(parent.empty() ? "." : parent.string());
}

} // namespace

rocksdb::Status event_log::impl::commit(const rocksdb::WriteOptions& wo, rocksdb::WriteBatch& wb) {
  std::lock_guard<std::mutex> lock{replication_mutex};
  if (leading_epoch == 0)
    return write(wo, wb);
  replicated_batch shipped;
  shipped.epoch = leading_epoch;
  shipped.position = mark.position + 1;
  shipped.prev_epoch = mark.position == 0 ? 0 : mark.epoch;
  replication_mark next{shipped.epoch, shipped.position};
  if (auto s = wb.Put(cf(f_default), mark_key, encode_mark(next)); !s.ok())
    return s;
  if (auto s = write(wo, wb); !s.ok())
    return s;
  mark = next;
  shipped.data = wb.Data();
  ship(shipped);
  return rocksdb::Status::OK();
}

status event_log::load_mark() {
  auto& d = *impl_;
  std::string value;
  auto s = d.db->Get({}, d.cf(f_default), mark_key, &value);
  if (s.IsNotFound())
    return status::ok();
  if (!s.ok())
    return from(s, "cannot read the replication mark of the event log in " + d.dir);
  if (!decode_mark(value, d.mark))
    return status::error("event log in " + d.dir + " has a malformed replication mark");
  return status::ok();
}

status event_log::lead(std::uint64_t epoch, std::function<void(const replicated_batch&)> ship) {
  auto& d = *impl_;
  if (d.opts.read_only)
    return status::error("event log in " + d.dir + " is open read-only: it cannot lead");
  {
    std::lock_guard<std::mutex> lock{d.replication_mutex};
    if (epoch <= d.mark.epoch)
      return status::error("epoch " + std::to_string(epoch) + " is not newer than epoch "
                           + std::to_string(d.mark.epoch) + " of the event log in " + d.dir);
    d.leading_epoch = epoch;
    d.ship = std::move(ship);
  }
  // What it applied as a follower moved the global order on.
  if (auto st = find_next_position(); !st)
    return st;
  // The epoch's first batch holds nothing but its stamp (Raft's no-op at
  // the start of a term): a follower's mark shows at once whether it
  // follows this leader, and what the last leader left unacknowledged is
  // behind a batch of this one.
  rocksdb::WriteBatch first;
  return from(d.commit(d.write_options(), first), "cannot write the first batch of epoch "
                                     + std::to_string(epoch) + " to the event log in " + d.dir);
}

replication_mark event_log::replication() const {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock{d.replication_mutex};
  return d.mark;
}

status event_log::apply(const replicated_batch& b, bool defer_sync) {
  auto& d = *impl_;
  if (d.opts.read_only)
    return status::error("event log in " + d.dir + " is open read-only");
  std::lock_guard<std::mutex> lock{d.replication_mutex};
  if (d.leading_epoch != 0)
    return status::error("the event log in " + d.dir + " leads epoch "
                         + std::to_string(d.leading_epoch) + ": it takes no shipped batches");
  // The caller judged it; a batch out of place here would leave the log
  // holding a history no leader wrote.
  if (b.position != d.mark.position + 1 || b.epoch < d.mark.epoch)
    return status::error("batch " + std::to_string(b.position) + " of epoch "
                         + std::to_string(b.epoch) + " does not follow batch "
                         + std::to_string(d.mark.position) + " of epoch "
                         + std::to_string(d.mark.epoch) + " held in " + d.dir);
  rocksdb::WriteBatch wb{b.data};
  if (auto s = d.write(d.write_options(defer_sync), wb); !s.ok())
    return from(s, "cannot write a shipped batch to the event log in " + d.dir);
  d.mark = {b.epoch, b.position};
  return status::ok();
}

status event_log::checkpoint(const std::string& dir, replication_mark& mark) {
  auto& d = *impl_;
  rocksdb::Checkpoint* raw = nullptr;
  if (auto s = rocksdb::Checkpoint::Create(d.db.get(), &raw); !s.ok())
    return from(s, "cannot make a checkpoint of the event log in " + d.dir);
  std::unique_ptr<rocksdb::Checkpoint> cp{raw};
  // No write between the checkpoint and its mark: the writer waits the
  // while (hard links, and a copy of the WAL, bounded at 16 MiB). With the
  // WAL kept, nothing is flushed; without one, the memtables must be.
  std::lock_guard<std::mutex> lock{d.replication_mutex};
  std::uint64_t flush_at = d.opts.durability == config::durability::none ? 0 : UINT64_MAX;
  if (auto s = cp->CreateCheckpoint(dir, flush_at); !s.ok())
    return from(s, "cannot make a checkpoint of the event log in " + d.dir + " at " + dir);
  mark = d.mark;
  return status::ok();
}

std::string event_log::incoming_dir(const std::string& dir) {
  return dir + ".incoming";
}

namespace {

/// What else lives in a log's directory (the log lines, logs/) is not the
/// log's: it stays where it was when a checkpoint takes the log's place.
/// RocksDB keeps no folder of its own there.
void carry_over(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (auto& entry : fs::directory_iterator(from, ec)) {
    auto target = fs::path{to} / entry.path().filename();
    if (entry.is_directory(ec) && !fs::exists(target, ec))
      fs::rename(entry.path(), target, ec);
  }
}

} // namespace

status event_log::install(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto incoming = incoming_dir(dir);
  auto replaced = replaced_dir(dir);
  if (!fs::is_directory(incoming, ec))
    return status::error("no checkpoint to install for the event log in " + dir + ": " + incoming
                         + " is missing");
  // Its files durable before it takes the log's place.
  for (auto& entry : fs::directory_iterator(incoming, ec))
    if (!sync_path(entry.path().string()))
      return status::error("cannot sync " + entry.path().string() + " before installing it");
  fs::remove_all(replaced, ec);
  if (fs::exists(dir, ec)) {
    fs::rename(dir, replaced, ec);
    if (ec)
      return status::error("cannot move the event log in " + dir + " aside: " + ec.message());
  }
  fs::rename(incoming, dir, ec);
  if (ec)
    return status::error("cannot move the checkpoint in " + incoming + " to " + dir + ": "
                         + ec.message());
  sync_parent(dir);
  carry_over(replaced, dir);
  fs::remove_all(replaced, ec);
  return status::ok();
}

status event_log::finish_install(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto replaced = replaced_dir(dir);
  if (!fs::exists(replaced, ec))
    return status::ok();
  // install() moved the old log aside only once the checkpoint was whole.
  if (!fs::exists(dir, ec)) {
    auto incoming = incoming_dir(dir);
    fs::rename(fs::exists(incoming, ec) ? incoming : replaced, dir, ec);
    if (ec)
      return status::error("cannot finish installing a checkpoint as the event log in " + dir
                           + ": " + ec.message());
    sync_parent(dir);
  }
  carry_over(replaced, dir);
  fs::remove_all(replaced, ec);
  return status::ok();
}

} // namespace nexus::storage
