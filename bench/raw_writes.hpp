#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/workflow.hpp"

namespace nexus::bench {

/// The writes of a plain RocksDB loop that stands for what the disk can do
/// under Nexus's load: `sagas` times the records of one saga, each under
/// the key its event has in the log, in WriteBatches of `batch` records.
struct raw_write_spec {
  std::string dir;  ///< A fresh database is made here (whatever was there is removed).
  config::durability durability = config::durability::sync;
  std::uint64_t sagas = 0;
  std::vector<std::string> records; ///< One saga's records, in order (event seq 1, 2, ...).
  std::function<std::string(std::uint64_t)> cid_of; ///< The correlation ID of saga n (1-based).
  std::uint32_t batch = 1;          ///< Records per WriteBatch.
};

struct raw_write_result {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0; ///< Of keys and values.
  std::uint64_t batches = 0;
  double seconds = 0;
  std::string error; ///< Set if the database could not be opened or written.
};

/// Writes `spec` with nothing of Nexus in the loop: RocksDB's default
/// options, one WriteBatch after another, each with the sync (or WAL)
/// setting of `spec.durability`. Timed from the first write to the last;
/// `progress` (if given) is told the records written so far now and then.
/// Removes the database when done.
raw_write_result raw_write_loop(const raw_write_spec& spec,
                                const std::function<void(std::uint64_t records)>& progress = {});

} // namespace nexus::bench
