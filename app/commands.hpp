#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench.hpp"

namespace nexus::config {
struct workflow;
}
namespace nexus::actors {
enum class client_end : std::uint8_t;
struct run_options;
struct submit_options;
struct cluster_options;
class remote_tools;
}

namespace nexus::app {

// Each subcommand's arguments, filled by the command line (main.cpp), and
// the function that runs it, which gives the process's exit status:
// 0 success, 1 runtime error, 2 bad usage or bad file.

/// The exit status of a client of a coordinator: 0 done, 1 lost, 2 refused.
int exit_status(actors::client_end end);

struct run_args {
  std::string workflow;
  std::string input;
  std::uint64_t generate = 0;
  std::string saga;
  std::string data_dir;
  std::uint32_t threads = 0;
  bool threads_set = false;
  std::uint64_t max_in_flight = 0;
  bool json = false;
  bool no_progress = false;
  std::string on_bad_input = "stop";
  std::string log_level; ///< Empty: the workflow's logging levels.
  std::string listen;    ///< HOST:PORT: run as a cluster's coordinator.
  std::uint32_t expect_workers = 0;
  std::uint32_t expect_seconds = 60;
  std::string local_stages = "on";
  std::string metrics;   ///< HOST:PORT to serve GET /metrics on; empty: none.
};

/// Splits HOST:PORT (a port alone, or `:PORT`: 127.0.0.1); false, with
/// `error` naming the option, if it is not one.
bool parse_endpoint(const std::string& option, const std::string& text, std::string& host,
                    std::uint16_t& port, std::string& error);

/// The cluster token: NEXUS_CLUSTER_TOKEN if set, else cluster.token.
std::string cluster_token(const config::workflow& wf);

/// A coordinator's cluster options from `--listen HOST:PORT` and
/// `--local-stages on|off`; false, with `error` set, for a bad endpoint, or
/// for one beyond 127.0.0.1 without a cluster token.
bool listen_options(const std::string& listen, const std::string& local_stages,
                    const config::workflow& wf, actors::cluster_options& cl, std::string& error);

/// How a client (nexus submit, nexus mcp --connect) reaches a coordinator
/// besides its HOST:PORT: its cluster name, and mutual TLS.
struct coordinator_client_args {
  std::string cluster = "nexus";
  std::string tls_certificate, tls_key, tls_ca;
};

/// Fills `opts` to reach the coordinator at `endpoint` (given as
/// `option`), the token from NEXUS_CLUSTER_TOKEN; false, with `error` set,
/// for a bad endpoint.
bool coordinator_client(const std::string& option, const std::string& endpoint,
                        const coordinator_client_args& args, actors::submit_options& opts,
                        std::string& error);

/// A connection that runs tools on the coordinator at `endpoint` (given as
/// `option`: nexus mcp --connect, nexus signal --to); null, having said why
/// on stderr and set `status` (2: a bad endpoint, 1: none reached there).
std::unique_ptr<actors::remote_tools> connect_tools(const std::string& option,
                                                    const std::string& endpoint,
                                                    const coordinator_client_args& args,
                                                    int& status);

struct mcp_args : coordinator_client_args {
  std::string workflow;
  std::string data_dir;
  std::string connect; ///< HOST:PORT of a coordinator to run the tools on.
  std::size_t max_message_bytes = std::size_t{4} << 20;
  std::uint32_t grace_seconds = 10;
  std::string log_level;
};
int mcp(const mcp_args& args);

struct signal_args : coordinator_client_args {
  std::string cid;
  std::string name;
  std::string data;      ///< Raw JSON, "" for none.
  std::string id;        ///< The signal's ID for deduplication, "" for none.
  std::string data_dir;  ///< A data directory no process holds...
  std::string to;        ///< ...or HOST:PORT of a nexus serve.
  bool json = false;
};
int signal(const signal_args& args);

struct cluster_status_args {
  std::string to; ///< HOST:PORT of any coordinator's HTTP API (nexus serve --http).
  bool json = false;
};
/// `nexus cluster status`: each coordinator of a replicated cluster, its
/// role, epoch, position and lag behind the leader.
int cluster_status(const cluster_status_args& args);

struct serve_args {
  std::string workflow;
  std::string http;   ///< HOST:PORT of the HTTP API.
  std::string listen; ///< HOST:PORT of the cluster gateway.
  std::string local_stages = "on";
  std::string data_dir;
  std::uint32_t threads = 0;
  bool threads_set = false;
  std::uint64_t max_in_flight = 0;
  std::uint32_t grace_seconds = 10;
  std::string node; ///< Its name in logs and, replicated, in etcd (default: the --listen endpoint).
  bool json = false;
  std::string log_level;
};
int serve(const serve_args& args);

struct http_settings;
/// The HTTP API's settings from `--http HOST:PORT` and the workflow's
/// `http`; its token (NEXUS_HTTP_TOKEN if set, else http.token). False,
/// with `error`, for a bad endpoint or one beyond loopback without a token.
bool http_options(const std::string& endpoint, const config::workflow& wf, http_settings& out,
                  std::string& token, std::string& error);

struct submit_args : coordinator_client_args {
  std::uint32_t reconnect_for = 30;
  std::string to;
  std::string input;
  bool detach = false;
  bool json = false;
};
int submit(const submit_args& args);

struct worker_args {
  std::string workflow;
  std::string join;
  std::string stages;
  std::uint32_t capacity = 0;
  bool stay = false;
  /// Unset: 30 s, or with cluster.ha as long as it runs.
  std::optional<std::uint32_t> reconnect_for;
  std::uint32_t threads = 0;
  std::string node;
  std::string log_level;
  std::string data_dir;  ///< Where its log file goes; empty: runtime.data_dir.
  std::string tls_certificate, tls_key; ///< Its own, in place of cluster.tls's.
  std::string metrics;   ///< HOST:PORT to serve GET /metrics on; empty: none.
};
int worker(const worker_args& args);
int run(const run_args& args);

/// What command-line options put in place of a workflow file's settings;
/// empty (or unset) ones change nothing.
struct overrides {
  overrides(std::string dir, std::string level, bool threads_given = false,
            std::uint32_t thread_count = 0, std::uint64_t in_flight = 0)
    : data_dir(std::move(dir)), log_level(std::move(level)), threads_set(threads_given),
      threads(thread_count), max_in_flight(in_flight) {}

  std::string data_dir;          ///< runtime.data_dir
  std::string log_level;         ///< logging.level and logging.console_level
  bool threads_set = false;
  std::uint32_t threads = 0;     ///< runtime.threads, when threads_set
  std::uint64_t max_in_flight = 0; ///< runtime.max_in_flight, when not 0
};

/// The overrides of a command that runs sagas (run, serve).
template <class Args>
overrides overrides_of(const Args& a) {
  return {a.data_dir, a.log_level, a.threads_set, a.threads, a.max_in_flight};
}

/// Loads the workflow file at `path` into `wf` with `o` applied; false
/// after printing every problem with its file, line and key.
bool load_or_report(const std::string& path, const overrides& o, config::workflow& wf);

/// `--log-level LEVEL`, for the commands that run sagas.

/// Runs `wf` to the end with its logging set up, then prints the summary
/// (one JSON object with `json`); returns the exit status. With `metrics`
/// (HOST:PORT), serves the run's metrics there meanwhile.
int run_and_report(const config::workflow& wf, const actors::run_options& opts, bool json,
                   bool progress, const std::string& metrics = {});

struct retry_args {
  std::vector<std::string> cids;
  std::string workflow;
  bool migrate = false; ///< Move them to the workflow's definitions first.
  std::string data_dir;  ///< Empty: runtime.data_dir of the workflow.
  bool json = false;
  std::string log_level;
};
int retry(const retry_args& args);

struct events_args {
  std::string cid;  ///< Empty: every saga (with --follow).
  std::string data_dir = ".nexus";
  bool json = false;
  bool follow = false;
  std::uint32_t poll_ms = 100;
};
int events(const events_args& args);

struct sagas_args {
  std::string status;
  std::string data_dir = ".nexus";
  bool json = false;
  std::uint64_t limit = 0; ///< 0: every saga.
};
int sagas(const sagas_args& args);

struct breakers_args {
  std::string data_dir = ".nexus";
  bool json = false;
};
int breakers(const breakers_args& args);

struct stats_args {
  std::string data_dir = ".nexus";
  bool json = false;
};
int stats(const stats_args& args);

using bench::bench_args;
using bench::run_bench;
using bench::bench_phases;

struct validate_args {
  std::string workflow;
  std::string against; ///< A data directory: could its sagas move to this file?
};
int validate(const validate_args& args);

struct definitions_args {
  std::string data_dir = ".nexus";
  bool json = false;
};
int definitions(const definitions_args& args);

struct migrate_args {
  std::string workflow;
  std::string saga;     ///< Only sagas of this name.
  std::string from;     ///< Only sagas on a definition whose hash starts so.
  bool dry_run = false;
  std::string data_dir; ///< Empty: runtime.data_dir of the workflow.
  bool json = false;
};
int migrate(const migrate_args& args);

} // namespace nexus::app
