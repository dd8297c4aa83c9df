#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "config/workflow.hpp"
#include "actors/stage_stats.hpp"
#include "runtime/input_source.hpp"
#include "runtime/run_summary.hpp"
#include "runtime/signal_log.hpp"
#include "runtime/start_request.hpp"

namespace nexus::runtime {
class handler_registry;
class meter_board;
}
namespace nexus::storage {
class event_log;
}

namespace nexus::actors {

class engine;

/// A run as the coordinator of a cluster: it publishes a gateway at
/// `host`:`port` that worker nodes join, and sends step calls to them (and
/// to its own stages unless `local_stages` is false).
struct cluster_options {
  bool listen = false;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;            ///< 0: any free port (see on_listening).
  std::uint32_t expect_workers = 0;  ///< Workers to wait for before starting.
  std::uint32_t expect_seconds = 60; ///< How long to wait for them.
  bool local_stages = true;
  std::string token;                 ///< Nodes must present it; empty: none asked.
  /// Told the port once the gateway is published.
  std::function<void(const std::string& host, std::uint16_t port)> on_listening;
  /// Answers the tool calls of `nexus mcp --connect` (on a thread of their
  /// own): given this engine, the tool and its arguments (a JSON object),
  /// whether the call failed and its result. Empty: none are answered.
  std::function<std::pair<bool, std::string>(engine&, const std::string& tool,
                                             const std::string& arguments)>
    tools;
};

/// A replicated coordinator's leader (docs/ha.md): its log leads `epoch`
/// (its etcd revision), every batch goes to the followers that copy it
/// (through the cluster's gateway: the run must listen), and an append is
/// acknowledged once durable here and on `min_replicas` followers, and only
/// while the lease that lease() last gave holds.
struct replication_options {
  std::uint64_t epoch = 0; ///< 0: not replicated.
  std::uint32_t min_replicas = 1;
  /// Called (from one of the engine's threads) when a follower holds a
  /// longer log than this leader had when it began to lead: this one must
  /// step down, so that the follower leads.
  std::function<void(const std::string& node)> on_longer_log;
};

/// Where a run's new sagas come from: an input file, or `generate` copies of
/// saga `saga`, or neither (then the run only resumes unfinished sagas, and
/// takes what a program gives engine::start).
struct run_options {
  std::string input_path;       ///< A JSON-lines file, or "-" for standard input.
  std::uint64_t generate = 0;
  std::string saga;
  /// The C++ handlers that `handler` actions name; may be null when the
  /// workflow has none. Must outlive the run.
  const runtime::handler_registry* handlers = nullptr;
  /// What a bad input line does: stop the run (exit 2) or is skipped.
  runtime::bad_input_policy on_bad_input = runtime::bad_input_policy::stop;
  cluster_options cluster;
  replication_options replication;
  /// Where sagas, stages, breakers, the log writer and the cluster count
  /// what the metrics show (app/metrics.hpp scrapes it); null: nothing is
  /// counted. Must outlive the engine.
  runtime::meter_board* meters = nullptr;
};

/// What engine::start and engine::cancel did (runtime/start_request.hpp).
using runtime::cancel_result;
using runtime::start_result;

/// Nexus embedded in a program: a running actor system with its event log.
/// On construction it opens the log and resumes every unfinished saga in it
/// (and starts those of `opts`' input); start() and cancel() may then be
/// called from any thread until wait(), which returns once every saga has
/// ended. `wf` (and `opts.handlers`) must outlive the engine. Not copyable;
/// the destructor stops everything that still runs (what it had not
/// finished resumes on the next run).
///
///   nexus::actors::engine e{wf, {}};
///   if (!e.ok()) ...e.error()...
///   e.start("order", "ord-1", R"({"sku":"A-7"})");
///   e.cancel("ord-1");
///   auto summary = e.wait();
class engine {
public:
  engine(const config::workflow& wf, const run_options& opts);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// False if the engine could not start (see error() and exit_status()).
  bool ok() const;
  const std::string& error() const;
  /// 2 for bad input (a file, an option, a missing handler), 1 otherwise.
  int exit_status() const;

  /// Starts saga `saga` with `input_json` (an object) under `cid`. Returns
  /// `started` once the saga's first events are durable (it may still wait
  /// for room under max_in_flight): a crash after that leaves it to the next
  /// run, which resumes it.
  start_result start(const std::string& saga, const std::string& cid, std::string input_json = "{}");

  /// As start(), but returns at once: `on_answer` gets what start() would
  /// have returned, from one of the engine's threads (servers that must
  /// not hold a thread while the write is made durable).
  /// `traceparent` and `tracestate` (W3C Trace Context, as a caller sent
  /// them) make the saga part of the caller's trace; without them (or with
  /// a malformed traceparent) it starts a trace of its own.
  void start_then(const std::string& saga, const std::string& cid, std::string input_json,
                  std::function<void(start_result)> on_answer,
                  const std::string& traceparent = {}, const std::string& tracestate = {});

  /// How a saga given to start_async() came out, told once: `result` is
  /// `started` and `status` its end (completed, compensated, failed or
  /// cancelled), or the start was refused, `result` says why and `status`
  /// is empty.
  using end_callback =
    std::function<void(const std::string& cid, start_result result, const std::string& status)>;
  // (actors::end_callback in run_watchers.hpp is the same type; that header
  // would bring CAF's into every user of the engine.)

  /// As start(), but returns at once, without waiting for the write:
  /// `on_end` is called, from one of the engine's threads, when the saga
  /// ends or if it is refused. A saga still running when the engine is
  /// destroyed (or wait_for() stops it) is never reported. `on_end` may be
  /// empty: then nothing is told, and the start costs no more than a
  /// message.
  /// `on_started` (if given) is called first, once the saga's first events
  /// are durable (when start() would have returned `started`).
  void start_async(const std::string& saga, const std::string& cid, std::string input_json,
                   end_callback on_end, std::function<void(const std::string& cid)> on_started = {});

  /// Calls `on_end` once, from one of the engine's threads: with the end
  /// status of saga `cid` when it ends (at once if it had), or with "" if
  /// it is unknown or not running, or `limit` passes first.
  void watch(const std::string& cid, std::chrono::milliseconds limit,
             std::function<void(const std::string& status)> on_end);

  /// Cancels the saga `cid`; `status` gets its end when it had already ended.
  cancel_result cancel(const std::string& cid, std::string* status = nullptr);

  /// Sends signal `s` to its saga and returns once it is durable (`stored`),
  /// or says why it is not: `duplicate`, `ended` (with the saga's status in
  /// `detail`), `unknown`, `failed` (with why in `detail`).
  runtime::signal_result signal(const runtime::saga_signal& s, std::string* detail = nullptr);

  /// As signal(), without holding the calling thread: `then` gets the
  /// result, from one of the engine's threads.
  void signal_then(runtime::saga_signal s,
                   std::function<void(runtime::signal_result, const std::string& detail)> then);

  /// A replicating leader may acknowledge until `valid_until_us` (steady
  /// clock, microseconds since its epoch), as its lease in etcd allows.
  void lease(std::int64_t valid_until_us);

  /// A replicating leader's figures: its epoch, the last batch of its log
  /// that may be acknowledged (durable here and on enough followers), and
  /// how many followers count as replicas now; all 0 when not replicated.
  struct replication_figures {
    std::uint64_t epoch = 0, committed = 0, replicas = 0, written = 0;
    /// Its followers as a JSON array of {"node", "position", "catching_up"}.
    std::string followers = "[]";
  };
  replication_figures replication();

  /// Reopens the compensation of saga `cid`, which ended `failed` (as
  /// `nexus retry` does, in this running engine): true once the reopening
  /// is durable and the saga resumed; false, with `error` saying why not
  /// (unknown, not failed, still running, failed past a pivot).
  bool retry(const std::string& cid, std::string& error);

  /// The run's counts so far (started, resumed, ended by status; those
  /// not ended yet as `interrupted`), as wait()'s progress gets them.
  runtime::run_summary counts();

  /// Where it counts what the metrics show (run_options::meters); null: nowhere.
  runtime::meter_board* meters() const;

  /// The engine's event log, for reads from any thread (queries see every
  /// acknowledged event); null if it could not be opened.
  const storage::event_log* log() const;

  /// The definition with this hash: one this engine holds, or read from its
  /// log into its catalog (once); null if there is none.
  const config::saga_spec* definition(const std::string& hash);

  /// Bytes the event log holds in memory now (RocksDB's write buffers and
  /// table readers); 0 once the engine has finished.
  std::uint64_t log_memory_bytes() const;

  /// Each stage's figures by `<saga>/<step>`: now, or after wait() as the
  /// run left them.
  std::map<std::string, stage_stats> stages();

  /// Takes no more sagas and returns once every saga has ended (or the run
  /// had to stop: then `exit_status` and `error` in the summary say why).
  /// `progress`, if given, is called with the counts so far about five
  /// times a second meanwhile, from another thread.
  runtime::run_summary wait(std::function<void(const runtime::run_summary&)> progress = {});

  /// As wait(), but gives the sagas at most `grace` to end: those still
  /// running then stop where they are (counted as `interrupted`; their
  /// events are durable, and the next start resumes them).
  runtime::run_summary wait_for(std::chrono::milliseconds grace);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Runs a workflow to the end: an engine fed from `opts`, then wait().
/// Returns the exit status (0, 1 or 2) and fills `summary`.
int run_workflow(const config::workflow& wf, const run_options& opts,
                 runtime::run_summary& summary,
                 std::function<void(const runtime::run_summary&)> progress = {});

} // namespace nexus::actors
