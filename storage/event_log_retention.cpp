// Retention: the events of sagas that ended before a cutoff are removed,
// their rows kept and marked expired.
#include "storage/event_log.hpp"

#include "storage/event_log_impl.hpp"
#include "storage/keys.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

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
    if (auto s = d.commit(wo, wb); !s.ok())
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

} // namespace nexus::storage
