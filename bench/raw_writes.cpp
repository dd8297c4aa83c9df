#include "bench/raw_writes.hpp"

#include <chrono>
#include <filesystem>
#include <memory>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "storage/keys.hpp"

namespace nexus::bench {

raw_write_result raw_write_loop(const raw_write_spec& spec,
                                const std::function<void(std::uint64_t)>& progress) {
  raw_write_result r;
  std::error_code ec;
  std::filesystem::remove_all(spec.dir, ec);
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(opts, spec.dir, &raw);
  if (!st.ok()) {
    r.error = "cannot open " + spec.dir + ": " + st.ToString();
    return r;
  }
  std::unique_ptr<rocksdb::DB> db{raw};
  rocksdb::WriteOptions wo;
  wo.sync = spec.durability == config::durability::sync;
  wo.disableWAL = spec.durability == config::durability::none;
  auto batch = std::max<std::uint32_t>(1, spec.batch);
  rocksdb::WriteBatch wb;
  std::uint32_t in_batch = 0;
  auto commit = [&] {
    if (in_batch == 0)
      return true;
    auto s = db->Write(wo, &wb);
    if (!s.ok()) {
      r.error = "write to " + spec.dir + " failed: " + s.ToString();
      return false;
    }
    ++r.batches;
    r.records += in_batch;
    wb.Clear();
    in_batch = 0;
    if (progress && r.batches % 64 == 0)
      progress(r.records);
    return true;
  };
  auto start = std::chrono::steady_clock::now();
  for (std::uint64_t n = 1; n <= spec.sagas && r.error.empty(); ++n) {
    auto cid = spec.cid_of(n);
    for (std::size_t i = 0; i < spec.records.size(); ++i) {
      auto key = storage::event_key(cid, i + 1);
      r.bytes += key.size() + spec.records[i].size();
      wb.Put(key, spec.records[i]);
      if (++in_batch == batch && !commit())
        break;
    }
  }
  if (r.error.empty())
    commit();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  db.reset();
  std::filesystem::remove_all(spec.dir, ec);
  return r;
}

} // namespace nexus::bench
