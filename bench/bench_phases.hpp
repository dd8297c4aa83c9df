#pragma once

// The phases of `nexus bench`, each a run on its own data directory whose
// figures the command puts side by side (see bench/README.md for what each
// figure means and how it is measured).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/progress_bar.hpp"
#include "config/workflow.hpp"
#include "runtime/run_summary.hpp"

namespace nexus::runtime {
class meter_board;
}

namespace nexus::bench {

struct settings {
  std::uint32_t steps = 3;
  std::uint64_t sagas = 50000;
  std::uint64_t in_flight = 10000;
  config::durability durability = config::durability::sync;
  std::uint32_t threads = 0;         ///< 0: one per core.
  std::uint64_t recovery_sagas = 100000;
  std::uint64_t memory_sagas = 100000;
  std::uint64_t waiting_sagas = 1000000; ///< Parked on a signal in the waiting phase.
  double fail_rate = 0.1;            ///< Of each step, in the failure mix.
  double rate_fraction = 0.5;        ///< Of the closed loop's rate, for the fixed-rate run.
  std::string dir;                   ///< Each phase works in a directory under it.
};

/// Announces each phase and shows its progress in place on a terminal;
/// silent otherwise.
class reporter {
public:
  reporter(bool on, int phases) : on_(on && bar_.active()), phases_(phases) {}
  void begin(std::string name);
  void update(const std::string& text);
  void update(const runtime::run_summary& s);
  /// Ends the phase with a line that stays.
  void end(const std::string& text);

private:
  app::progress_bar bar_;
  bool on_;
  int phases_;
  int phase_ = 0;
  std::string name_;
};

/// Saga latency in milliseconds.
struct latency {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  /// (quantile, ms) pairs from 0.5 to 1, for a latency distribution chart.
  std::vector<std::pair<double, double>> distribution;
};

/// What a phase cost a saga (see phase_meter).
struct phase_costs {
  double cpu_ms_per_saga = 0;
  double messages_per_saga = 0;
};

/// A closed loop: `sagas` generated sagas, at most in_flight alive, each
/// started as soon as there is room.
struct run_figures {
  runtime::run_summary summary;
  double sagas_per_sec = 0;
  double events_per_sec = 0;
  double events_per_batch = 0;
  std::uint64_t peak_rss = 0; ///< Bytes; 0 if the kernel does not say.
  /// One saga's events as stored (seq 1 on), and the correlation ID of saga
  /// n is runtime::make_correlation_id("bench", n): what the raw storage
  /// loop writes in their place.
  std::vector<std::string> saga_records;
  /// The process's CPU time (user + system, getrusage) over the run, and
  /// the messages its actors took, per saga ended.
  phase_costs cost;
  std::string error;
};
/// With `meters`, the run counts what the metrics show there
/// (actors::run_options::meters).
run_figures closed_loop(const settings& s, const std::string& dir, double fail_rate, reporter& out,
                        runtime::meter_board* meters = nullptr);

/// The closed loop run in turns with and without the metrics' counting
/// (`rounds` of each, alternating, so that the machine's drift falls on
/// both alike): their sagas/s and CPU per saga, each the median of its runs.
struct metrics_cost_figures {
  int rounds = 0;
  double off_sagas_per_sec = 0, on_sagas_per_sec = 0;
  double off_cpu_ms_per_saga = 0, on_cpu_ms_per_saga = 0;
  /// On over off: 1 is free.
  double rate_ratio() const { return off_sagas_per_sec > 0 ? on_sagas_per_sec / off_sagas_per_sec : 0; }
  double cpu_ratio() const {
    return off_cpu_ms_per_saga > 0 ? on_cpu_ms_per_saga / off_cpu_ms_per_saga : 0;
  }
  std::string error;
};
metrics_cost_figures metrics_cost(const settings& s, int rounds, reporter& out);

struct fixed_rate_figures {
  double rate = 0;          ///< Sagas/s asked for.
  double achieved_rate = 0; ///< Sagas started per second, as it went.
  std::uint64_t sagas = 0;
  std::uint64_t completed = 0;
  double seconds = 0;
  latency lat;              ///< From each saga's planned arrival to its end.
  std::uint64_t events = 0;
  std::uint64_t write_batches = 0;
  std::uint64_t peak_rss = 0;
  phase_costs cost; ///< Per saga ended.
  std::string error;
};
fixed_rate_figures fixed_rate(const settings& s, double rate, reporter& out);

struct memory_figures {
  std::uint64_t sagas = 0;
  double bytes_per_saga = 0;          ///< Resident growth, less the log's write buffers.
  double bytes_per_saga_with_log = 0; ///< Resident growth in all.
  double heap_bytes_per_saga = 0;     ///< malloc's bytes in use.
  std::uint64_t log_bytes = 0;        ///< The log's write buffers and table readers.
  std::uint64_t actor_bytes = 0;      ///< Of it, a saga's actor as CAF allocates it.
  std::uint64_t peak_rss = 0;
  std::string error;
};
/// `s.memory_sagas` sagas started and left waiting on an hour-long step.
/// Measured first, in a process whose heap nothing has grown yet.
memory_figures memory(const settings& s, reporter& out);

struct recovery_figures {
  std::uint64_t sagas = 0;        ///< In the killed run.
  std::uint64_t ended_before_kill = 0; ///< Told ended when it died: at least half.
  std::uint64_t resumed = 0;
  std::uint64_t replayed_events = 0;
  double open_seconds = 0;        ///< Opening the killed log (RocksDB replays its WAL).
  double replay_seconds = 0;      ///< Finding the unfinished sagas and rebuilding them.
  double events_per_sec = 0;      ///< replayed_events over open and replay.
  double seconds = 0;             ///< From the open to every resumed saga's end.
  std::uint64_t completed = 0;
  std::uint64_t peak_rss = 0;
  phase_costs cost; ///< Per saga resumed: the open and the replay included.
  std::string error;
};
/// A child process (`exe bench --recovery-child DIR`) runs
/// s.recovery_sagas sagas, all in flight, and kills itself with SIGKILL the
/// moment all have started and it has been told that half have ended (the
/// tellings trail the ends, so by then more have); this process then
/// resumes what the log holds unfinished.
recovery_figures recovery(const settings& s, const std::string& exe, reporter& out);

/// The child's side: runs until it kills itself, printing the sagas ended
/// so far now and then, one number a line, on standard output. Returns (1)
/// only if it could not get that far.
int recovery_child(const settings& s, const std::string& dir);

struct waiting_figures {
  std::uint64_t sagas = 0;           ///< Started in the child, each waiting for a signal.
  std::uint64_t parked = 0;          ///< Of them, parked when it measured.
  std::uint64_t rss_bytes = 0;       ///< The child's resident memory then, in all.
  std::uint64_t log_bytes = 0;       ///< Of it, RocksDB's write buffers and table readers.
  double start_seconds = 0;          ///< The child's run, from its start to all parked.
  double first_start_seconds = 0;    ///< Restarted: from the open to a new start, durable.
  std::uint64_t parked_after_restart = 0; ///< With the new saga (it waits too).
  std::uint64_t signalled = 0;       ///< A tenth of them (100,000 at most), signalled.
  double signal_seconds = 0;         ///< From the first signal to the last of them completed.
  double signalled_per_sec = 0;
  std::uint64_t timers = 0;          ///< Sleepers due in one same second.
  bool sleepers_parked = false;      ///< Every one had parked before it was due.
  double timers_fire_seconds = 0;    ///< From that second to the last one's wake-up event.
  double timers_seconds = 0;         ///< From that second to the last of them completed.
  std::string error;
};
/// A child process (`exe bench --waiting-child DIR`) starts s.waiting_sagas
/// sagas waiting for a signal, reports its resident memory once all are
/// parked, and kills itself; this process restarts on the log, times a new
/// start, signals a tenth of them, then starts as many sleepers due in one
/// same second and times their wake-ups (bench/waiting_bench.cpp).
waiting_figures waiting(const settings& s, const std::string& exe, reporter& out);
/// The child's side: prints its progress, then `parked N rss BYTES log
/// BYTES`, and kills itself; returns (1) only if it could not get so far.
int waiting_child(const settings& s, const std::string& dir);

/// The workflow every phase runs: saga `bench` of s.steps simulated steps
/// (no latency; failing for good at `fail_rate`), each with a compensation;
/// or, `slow`, one step that takes an hour.
config::workflow bench_workflow(const settings& s, const std::string& dir, double fail_rate,
                                std::uint64_t in_flight, bool slow = false);
/// Its workflow file's text.
std::string bench_workflow_text(const settings& s, const std::string& dir, double fail_rate,
                                std::uint64_t in_flight, bool slow = false);

struct http_figures {
  std::uint32_t connections = 0;
  std::uint64_t starts = 0;        ///< Closed loop: answered 201.
  double starts_per_sec = 0;
  latency closed;                  ///< Of the answers to starts, closed loop.
  double server_cpu_ms_per_start = 0; ///< The server's user + system CPU, closed loop.
  double rate = 0;                 ///< Fixed rate asked for: half the closed loop's.
  double achieved_rate = 0;
  latency fixed;                   ///< From each start's planned time to its answer.
  std::string error;
};
/// Durable starts over HTTP: a `nexus serve --http` child (`exe`) on the
/// bench's workflow, driven over keep-alive connections closed loop, then
/// at half that rate.
http_figures http(const settings& s, const std::string& exe, reporter& out);

/// One run of the replicated phase: durable starts over HTTP, closed loop
/// on 64 connections, and the sagas they began run to their ends.
struct replicated_run {
  std::uint64_t starts = 0;  ///< Answered 201.
  double sagas_per_sec = 0;  ///< From the first start to the last end.
  latency start;             ///< Of the answers to starts.
  std::string error;
};
struct replicated_figures {
  std::uint64_t sagas = 0;   ///< Of each run.
  replicated_run single;     ///< One `nexus serve`.
  replicated_run replicated; ///< The leader of two (cluster.ha, min_replicas 1).
  /// Replicated sagas/s over one node's, in the same run.
  double ratio() const {
    return single.sagas_per_sec > 0 ? replicated.sagas_per_sec / single.sagas_per_sec : 0;
  }
  std::string error;
};
/// The cost of replication: the same starts to one `nexus serve` child
/// (`exe`), then to the leader of two with leadership in an etcd child
/// (Debian's etcd-server, found on PATH), all on 127.0.0.1.
replicated_figures replicated(const settings& s, const std::string& exe, reporter& out);

/// A whole number with thousands separators: 1,234,567.
std::string grouped(double x);

/// Peak resident bytes since the last reset_peak_rss() (or the start).
std::uint64_t peak_rss();
/// False if the kernel does not allow it: the peak is then since the start.
bool reset_peak_rss();

} // namespace nexus::bench
