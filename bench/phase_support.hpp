#pragma once

// What the phases of `nexus bench` share, across their files: the clock,
// the process's memory, logging, and a child process to kill.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "actors/engine.hpp"
#include "bench/bench_phases.hpp"
#include "runtime/latency_histogram.hpp"

namespace nexus::bench {

using clock_type = std::chrono::steady_clock;

/// Seconds since `t`.
double since(clock_type::time_point t);

/// The process's resident bytes now.
std::uint64_t resident_bytes();
/// The CPU time (user + system) this process has used, in seconds.
double process_cpu_seconds();
/// What a phase costs a saga: the process's CPU time and the messages its
/// actors take, from the meter's making to per_saga().
class phase_meter {
public:
  phase_meter();
  /// User + system CPU milliseconds per saga (getrusage), and messages per
  /// saga (runtime::messages_taken), over `sagas`.
  phase_costs per_saga(std::uint64_t sagas) const;

private:
  double cpu_seconds_;
  std::uint64_t messages_;
};
/// Bytes the allocator has handed out and not had back.
std::uint64_t heap_in_use();

/// Every phase's log file goes under its data directory, as a run's does.
bool start_logging(const config::workflow& wf, std::string& error);

latency latency_of(const runtime::latency_histogram& h);
/// The percentiles of latencies in milliseconds.
latency latency_of(const std::vector<double>& ms);

/// `engine.not_ended` of a GET /v1/stats answer; -1 if it has none.
std::int64_t not_ended(const std::string& stats);

/// Polls `done` every 10 ms until it holds (a benchmark may poll): false if
/// `seconds` pass first.
template <class F>
bool poll_until(F done, double seconds) {
  auto start = clock_type::now();
  while (!done()) {
    if (since(start) > seconds)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

void remove_dir(const std::string& dir);

/// Starts `exe args...` with its standard error in `err_file` and its
/// standard output on a pipe (its reading end in `*from_child`), or
/// discarded when `from_child` is null; -1 with `error` set if it could
/// not.
pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args,
                  const std::string& err_file, int* from_child, std::string& error);

/// Runs `exe args...` to its end, its standard error in `err_file`, handing
/// each line of its standard output to `on_line`: true if it was killed by
/// SIGKILL (as the children of the recovery and waiting phases kill
/// themselves), else false with `error` saying how it ended and the first
/// line it wrote on standard error.
bool run_killed_child(const std::string& exe, const std::vector<std::string>& args,
                      const std::string& err_file, const std::function<void(const char*)>& on_line,
                      std::string& error);

/// A child process's run: logging set up for `wf` and an engine on it,
/// handed to `body`, whose result is returned; a failure to get so far is
/// printed on standard error, and its exit status returned.
int run_child(const config::workflow& wf, const std::function<int(actors::engine&)>& body);

} // namespace nexus::bench
