#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace nexus::bench {

/// What one `fdatasync` of a small append takes on the bench's disk: the
/// floor under any durable write's latency. Measured twice: alone, then
/// while another thread writes and syncs files the size of a memtable flush
/// once a second (what RocksDB's flush thread does beside the WAL's syncs
/// in a busy run: bench/README.md, "What the profiles show").
struct raw_sync_spec {
  std::string dir;                        ///< Made if missing; the files are removed when done.
  std::uint32_t write_bytes = 8 << 10;    ///< Appended before each sync (a write batch).
  std::uint64_t flush_bytes = 16ull << 20; ///< Each file the flushing thread writes.
  double flush_every_seconds = 1;         ///< A file begun this often (or as each ends).
  double seconds = 3;                     ///< Of each half.
};

struct sync_latencies {
  std::uint64_t syncs = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  /// The share of the time spent in syncs slower than 10 ms: every write
  /// that waits on one of them (every saga's, in Nexus) is held that long,
  /// so a latency p99 under 10 ms needs this under 1 %.
  double stalled_share = 0;
};

struct raw_sync_result {
  sync_latencies alone;
  sync_latencies beside_flush;
  std::uint64_t flushed_bytes = 0; ///< Written by the flushing thread meanwhile.
  std::string error; ///< Set if a file could not be made, written or synced.
};

/// Appends `write_bytes` to a file and `fdatasync`s it, again and again, for
/// `seconds` alone and then `seconds` beside the flushing thread, which
/// writes a `flush_bytes` file in 1 MiB pieces and syncs it every
/// `flush_every_seconds`. Plain
/// POSIX calls, nothing of Nexus or RocksDB. `progress` (if given) is told
/// each half's name as it begins.
raw_sync_result raw_sync_loop(const raw_sync_spec& spec,
                              const std::function<void(const char* half)>& progress = {});

} // namespace nexus::bench
