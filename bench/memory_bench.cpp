// Resident memory per in-flight saga: N sagas started and left waiting on a
// step that takes an hour (one worker, the rest queued), measured as the
// growth of the process's resident set over an engine with none.
//
//   build/bench/nexus_memory_bench [--sagas N] [--dir DIR]
//
// Prints the resident set before and after, and the bytes per saga. What is
// counted: each saga's actor, its machine (input, step states), its request
// waiting on the stage, its queued call, the coordinator's entry, and the
// event log's write buffer holding its first events (RocksDB's memtable,
// bounded by its size, so its share falls as N grows).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <malloc.h>
#include <unistd.h>

#include "actors/engine.hpp"
#include "config/workflow_loader.hpp"

using namespace nexus;

namespace {

double resident_mib() {
  std::ifstream statm{"/proc/self/statm"};
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1 << 20);
}

/// Heap bytes in use (what malloc handed out and was not freed), less the
/// large blocks malloc maps on their own, such as RocksDB's write buffers.
double heap_mib() {
  return static_cast<double>(mallinfo2().uordblks) / (1 << 20);
}

} // namespace

int main(int argc, char** argv) {
  std::uint64_t sagas = 100000;
  // One directory per run: two runs must never share (or delete) one log.
  std::string dir = (std::filesystem::temp_directory_path()
                     / ("nexus-memory-bench-" + std::to_string(::getpid())))
                      .string();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sagas"))
      sagas = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--dir"))
      dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  auto loaded = config::parse_workflow(
    R"({"runtime": {"max_in_flight": )" + std::to_string(sagas) + R"(, "data_dir": ")" + dir
      + R"(", "durability": "async"},
        "sagas": {"wait": {"steps": [
          {"name": "slow", "timeout_ms": 7200000, "concurrency": 1,
           "action": {"kind": "simulate", "latency_ms": 3600000}}]}}})",
    "bench.json");
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.errors.front().to_string().c_str());
    return 1;
  }
  auto wf = std::move(*loaded.value);
  std::chrono::steady_clock::time_point stopping;
  double before = 0, after = 0, log_before = 0, log_after = 0, heap_before = 0, heap_after = 0;
  {
    actors::engine e{wf, {}};
    if (!e.ok()) {
      std::fprintf(stderr, "%s\n", e.error().c_str());
      return 1;
    }
    before = resident_mib();
    heap_before = heap_mib();
    log_before = static_cast<double>(e.log_memory_bytes()) / (1 << 20);
    auto started = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < sagas; ++i)
      e.start("wait", "w-" + std::to_string(i), R"({"order":12345,"sku":"A-7"})");
    // Wait until every saga's call has reached the stage (a benchmark may poll).
    for (int polls = 0;; ++polls) {
      auto stages = e.stages();
      auto s = stages.find("wait/slow");
      if (s != stages.end() && s->second.running + s->second.queued >= sagas)
        break;
      if (polls % 40 == 0)
        std::fprintf(stderr, "waiting: %llu of %llu sagas at the stage\n",
                     static_cast<unsigned long long>(
                       s == stages.end() ? 0 : s->second.running + s->second.queued),
                     static_cast<unsigned long long>(sagas));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    after = resident_mib();
    heap_after = heap_mib();
    log_after = static_cast<double>(e.log_memory_bytes()) / (1 << 20);
    auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%llu sagas waiting on a slow step (started in %.1f s)\n",
                static_cast<unsigned long long>(sagas), took);
    std::printf("%-34s %10.1f MiB\n", "resident, engine with no saga", before);
    std::printf("%-34s %10.1f MiB\n", "resident, every saga waiting", after);
    std::printf("%-34s %10.1f MiB\n", "of which the log's write buffers", log_after - log_before);
    std::printf("%-34s %10.0f bytes\n", "per in-flight saga",
                (after - before) * (1 << 20) / static_cast<double>(sagas));
    std::printf("%-34s %10.0f bytes\n", "per saga, less the write buffers",
                (after - before - (log_after - log_before)) * (1 << 20) / static_cast<double>(sagas));
    std::printf("%-34s %10.0f bytes\n", "heap in use per saga",
                (heap_after - heap_before) * (1 << 20) / static_cast<double>(sagas));
    std::fflush(stdout);
    stopping = std::chrono::steady_clock::now();
  }
  std::printf("%-34s %10.1f s\n", "engine stopped, sagas left waiting",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - stopping).count());
  std::filesystem::remove_all(dir);
  return 0;
}
