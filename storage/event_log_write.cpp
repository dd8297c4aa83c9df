// Writing the event log: one atomic batch per group commit, with the global
// order index and the rows.
#include "storage/event_log.hpp"

#include <rocksdb/perf_level.h>

#include "storage/event_log_impl.hpp"
#include "storage/keys.hpp"

namespace nexus::storage {

status event_log::write(const std::vector<const append_request*>& batch, std::uint64_t* bytes,
                        bool defer_sync) {
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
    if (req->timer_clear && req->timer_clear != req->timer_set)
      if (auto s = wb.Delete(d.cf(f_timers), timer_key(*req->timer_clear, req->cid)); !s.ok())
        return from(s, "cannot stage a timer's removal");
    if (req->timer_set)
      if (auto s = wb.Put(d.cf(f_timers), timer_key(*req->timer_set, req->cid), ""); !s.ok())
        return from(s, "cannot stage a timer");
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
  auto s = d.commit(d.write_options(defer_sync), wb);
  if (!s.ok())
    return from(s, "cannot write to the event log in " + d.dir);
  if (!order.empty())
    ++d.next_position;
  if (bytes != nullptr)
    *bytes = wb.GetDataSize();
  return status::ok();
}

bool event_log::syncs() const {
  return !impl_->opts.read_only && impl_->opts.durability == config::durability::sync;
}

status event_log::sync_wal() {
  auto& d = *impl_;
  if (!syncs())
    return status::ok();
  // RocksDB 7.8 syncs every WAL file up to the current one, and keeps a WAL
  // switched while it syncs in its list until that one is synced too (the
  // fix of facebook/rocksdb#10560, in since 7.7).
  if (auto s = d.sync_wal(); !s.ok())
    return from(s, "cannot sync the event log's WAL in " + d.dir);
  return status::ok();
}

} // namespace nexus::storage
