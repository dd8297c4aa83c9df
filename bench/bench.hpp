#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nexus::bench {

/// `nexus bench`: the options of one run of its phases (bench/README.md).
struct bench_args {
  std::uint32_t steps = 3;
  std::uint64_t sagas = 50000;
  std::uint64_t in_flight = 10000;
  std::string durability = "sync";
  std::uint32_t threads = 0;
  std::uint64_t recovery_sagas = 100000;
  std::uint64_t memory_sagas = 100000;
  std::uint64_t waiting_sagas = 1000000;
  double fail_rate = 0.1;
  double rate_fraction = 0.5;
  double rate = 0;            ///< Of the fixed-rate run; 0: rate_fraction of the closed loop's.
  std::vector<std::string> phases; ///< Empty: all.
  std::string dir;            ///< Empty: the temporary directory.
  bool json = false;
  bool no_progress = false;
  std::string recovery_child; ///< Set in the recovery run's child process: its data directory.
  std::string waiting_child;  ///< Set in the waiting run's child process: its data directory.
};
int run_bench(const bench_args& args);
/// Every phase of `nexus bench`, in the order they run.
const std::vector<std::string>& bench_phases();

} // namespace nexus::bench
