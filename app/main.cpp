#include <functional>
#include <iostream>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/versions.hpp"

// The whole command line is here: the one translation unit that includes
// CLI11 (a heavy header), so that each command's file builds without it.
namespace nexus::app {
namespace {

// CLI11's PositiveNumber and NonNegativeNumber name their bound as a
// 300-digit double ("not in range 0.000000 to 1797...") and call 0 out of a
// range that starts at 0; this one says what the option needs.
CLI::Validator at_least(double low, const char* what) {
  return CLI::Validator(
      [low, what](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "must be a number, got " + text;
        if (value < low) return std::string("must be ") + what + ", got " + text;
        return {};
      },
      what);
}
const CLI::Validator positive = at_least(1e-300, "more than 0");
const CLI::Validator non_negative = at_least(0, "0 or more");

void add_log_level(CLI::App& app, std::string& level) {
  app.add_option("--log-level", level,
                 "Level of the log file and of the console, in place of the workflow's "
                 "logging.level and logging.console_level")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

void add_coordinator_client(CLI::App& app, coordinator_client_args& args) {
  app.add_option("--cluster", args.cluster, "The coordinator's cluster.name")->capture_default_str();
  auto* cert = app.add_option("--tls-certificate", args.tls_certificate,
                              "Mutual TLS: this client's certificate (PEM), signed by the cluster's CA")
                 ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", args.tls_key, "Mutual TLS: its private key (PEM)")
                ->check(CLI::ExistingFile);
  auto* ca = app.add_option("--tls-ca", args.tls_ca, "Mutual TLS: the cluster's CA (PEM)")
               ->check(CLI::ExistingFile);
  cert->needs(key)->needs(ca);
  key->needs(cert);
  ca->needs(cert);
}

void add_bench(CLI::App& app, bench_args& args) {
  app.add_option("--steps", args.steps, "Simulated steps a saga (no latency)")
    ->check(CLI::Range(1, 64))
    ->capture_default_str();
  app.add_option("--sagas", args.sagas, "Sagas of each run")
    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
    ->capture_default_str();
  app.add_option("--in-flight", args.in_flight, "Live sagas at most (runtime.max_in_flight)")
    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10000000}))
    ->capture_default_str();
  app.add_option("--durability", args.durability, "sync, async or none")
    ->check(CLI::IsMember({"sync", "async", "none"}))
    ->capture_default_str();
  app.add_option("--threads", args.threads, "Scheduler threads, 0 for one per core")
    ->check(CLI::Range(0, 1024))
    ->capture_default_str();
  app.add_option("--recovery-sagas", args.recovery_sagas,
                 "Sagas of the run killed for the recovery figures")
    ->check(CLI::Range(std::uint64_t{2}, std::uint64_t{100000000}))
    ->capture_default_str();
  app.add_option("--memory-sagas", args.memory_sagas,
                 "Sagas left waiting on a step for the memory figures")
    ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
    ->capture_default_str();
  app.add_option("--waiting-sagas", args.waiting_sagas,
                 "Sagas parked on a signal for the waiting figures")
    ->check(CLI::Range(std::uint64_t{10}, std::uint64_t{100000000}))
    ->capture_default_str();
  app.add_option("--fail-rate", args.fail_rate,
                 "Share of step attempts failing for good in the failure mix")
    ->check(CLI::Range(0.0, 1.0))
    ->capture_default_str();
  app.add_option("--rate-fraction", args.rate_fraction,
                 "The fixed-rate run's rate, as a share of the closed loop's")
    ->check(CLI::Range(0.001, 1.0))
    ->capture_default_str();
  app.add_option("--rate", args.rate,
                 "The fixed-rate run's sagas/s (default: --rate-fraction of the closed loop's)")
    ->check(positive);
  app.add_option("--phases", args.phases,
                 "The runs to make, comma-separated, of: memory, closed-loop, raw-storage, "
                 "raw-messaging, raw-sync, fixed-rate, failure-mix, recovery, http, waiting, metrics, "
                 "replicated (default: all)")
    ->delimiter(',')
    ->check(CLI::IsMember(bench_phases()));
  app.add_option("--dir", args.dir,
                 "Where the runs' event logs go (a directory made under it, and removed)")
    ->capture_default_str();
  app.add_flag("--json", args.json, "Print the figures as one JSON object");
  app.add_flag("--no-progress", args.no_progress, "Print no progress while running");
  // The child process of the recovery run (not for people).
  app.add_option("--recovery-child", args.recovery_child)->group("");
  app.add_option("--waiting-child", args.waiting_child)->group("");
}

void add_breakers(CLI::App& app, breakers_args& args) {
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print one JSON object per resource");
}

void add_events(CLI::App& app, events_args& args) {
  app.add_option("cid", args.cid, "Correlation ID of the saga (all sagas with --follow)");
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print each event as its stored JSON, one per line");
  app.add_flag("--follow", args.follow,
               "Keep printing new events, in the order they are written, until interrupted");
  app.add_option("--poll-ms", args.poll_ms, "With --follow: how often to look for new events")
    ->check(CLI::Range(1u, 60000u))
    ->capture_default_str();
}

void add_mcp(CLI::App& app, mcp_args& args) {
  app.add_option("workflow", args.workflow,
                 "Workflow file whose sagas the tools run (not with --connect)");
  app.add_option("--data-dir", args.data_dir, "Event log directory (default: runtime.data_dir)");
  app.add_option("--connect", args.connect,
                 "HOST:PORT of a coordinator (nexus serve) to run the tools on, instead of here");
  add_coordinator_client(app, args);
  app.add_option("--max-message-bytes", args.max_message_bytes,
                 "Longest message taken; a longer line is answered with an error and skipped")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  app.add_option("--grace-seconds", args.grace_seconds,
                 "When stdin closes: how long running sagas may take to end before they stop "
                 "where they are (they resume on the next start)")
    ->capture_default_str();
  add_log_level(app, args.log_level);
}

void add_retry(CLI::App& app, retry_args& args) {
  app.add_option("cid", args.cids, "Correlation IDs of sagas that ended failed")->required();
  app.add_option("--workflow", args.workflow, "Workflow file that defines their sagas")
    ->required();
  app.add_flag("--migrate", args.migrate,
               "First move them to the workflow's definitions (as nexus migrate does, all or "
               "none)");
  app.add_option("--data-dir", args.data_dir, "Event log directory (default: runtime.data_dir)");
  app.add_flag("--json", args.json, "Print the run's summary as one JSON object");
  add_log_level(app, args.log_level);
}

void add_signal(CLI::App& app, signal_args& args) {
  app.add_option("cid", args.cid, "Correlation ID of the saga to signal")->required();
  app.add_option("name", args.name, "The signal's name, as a wait step names it")->required();
  app.add_option("--data", args.data, "The signal's data, any JSON: the wait step's output");
  app.add_option("--id", args.id, "The signal's ID: sent again, it is a duplicate, stored once");
  auto* dir = app.add_option("--data-dir", args.data_dir,
                             "Event log directory that no process holds (the next run that "
                             "resumes the saga takes the signal)");
  auto* to = app.add_option("--to", args.to,
                            "HOST:PORT of a nexus serve (its --listen); a replicated cluster's "
                            "coordinators separated by commas: the leader takes it");
  dir->excludes(to);
  to->excludes(dir);
  add_coordinator_client(app, args);
  app.add_flag("--json", args.json, "Print the answer as one JSON object");
}

void add_definitions(CLI::App& app, definitions_args& args) {
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print one JSON object per definition, with its steps");
}

void add_migrate(CLI::App& app, migrate_args& args) {
  app.add_option("--workflow", args.workflow, "The workflow file to move sagas to")->required();
  app.add_option("--saga", args.saga, "Only sagas of this name");
  app.add_option("--from", args.from, "Only sagas on the definition whose hash starts so");
  app.add_flag("--dry-run", args.dry_run, "Say what would move, and why not, writing nothing");
  app.add_option("--data-dir", args.data_dir, "Event log directory (default: runtime.data_dir)");
  app.add_flag("--json", args.json, "Print one JSON object: the counts and each saga's result");
}

void add_run(CLI::App& app, run_args& args) {
  app.add_option("workflow", args.workflow, "Workflow file (JSON)")->required();
  auto* input = app.add_option("--input", args.input,
                               "JSON-lines file of sagas to start, or - for standard input");
  app.add_option("--on-bad-input", args.on_bad_input,
                 "A bad input line stops the run (exit 2) or is skipped")
    ->check(CLI::IsMember({"stop", "skip"}))
    ->capture_default_str();
  auto* generate = app.add_option("--generate", args.generate, "Start N generated sagas")
                     ->check(positive);
  input->excludes(generate);
  app.add_option("--saga", args.saga, "Saga to generate (with --generate)")->needs(generate);
  generate->needs("--saga");
  app.add_option("--data-dir", args.data_dir, "Event log directory (default: runtime.data_dir)");
  app.add_option("--threads", args.threads, "Scheduler threads, 0 for one per core")
    ->each([&args](const std::string&) { args.threads_set = true; });
  app.add_option("--max-in-flight", args.max_in_flight, "Live sagas at most")
    ->check(positive);
  app.add_flag("--json", args.json, "Print the summary as one JSON object");
  app.add_flag("--no-progress", args.no_progress, "Print no progress while running");
  add_log_level(app, args.log_level);
  auto* listen = app.add_option(
    "--listen", args.listen,
    "Run as the coordinator of a cluster, taking workers at HOST:PORT (port 0: any free port)");
  app.add_option("--expect-workers", args.expect_workers,
                 "With --listen: wait for N workers to join before starting")
    ->needs(listen);
  app.add_option("--expect-seconds", args.expect_seconds,
                 "With --expect-workers: how long to wait for them")
    ->needs(listen)
    ->capture_default_str();
  app.add_option("--local-stages", args.local_stages,
                 "With --listen: whether this node runs steps too, or only the workers")
    ->check(CLI::IsMember({"on", "off"}))
    ->needs(listen)
    ->capture_default_str();
  app.add_option("--metrics", args.metrics,
                 "Serve GET /metrics (Prometheus) at HOST:PORT while the run lasts");
}

void add_sagas(CLI::App& app, sagas_args& args) {
  app.add_option("--status", args.status, "Only sagas with this status")
    ->check(CLI::IsMember({"running", "compensating", "completed", "compensated", "failed",
                           "cancelled"}));
  app.add_option("--limit", args.limit, "Only the N newest sagas (0: all)")
    ->check(non_negative)
    ->capture_default_str();
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print one JSON object per saga, newest first");
}

void add_serve(CLI::App& app, serve_args& args) {
  app.add_option("workflow", args.workflow, "Workflow file (JSON)")->required();
  app.add_option("--http", args.http,
                 "HOST:PORT of the HTTP API (port 0: any free port, printed on stderr)");
  app.add_option("--listen", args.listen,
                 "HOST:PORT where workers join and nexus submit sends sagas (optional with --http)");
  app.add_option("--local-stages", args.local_stages,
                 "Whether this node runs steps too, or only its workers")
    ->check(CLI::IsMember({"on", "off"}))
    ->capture_default_str();
  app.add_option("--data-dir", args.data_dir, "Event log directory (default: runtime.data_dir)");
  app.add_option("--threads", args.threads, "Scheduler threads, 0 for one per core")
    ->each([&args](const std::string&) { args.threads_set = true; });
  app.add_option("--max-in-flight", args.max_in_flight, "Live sagas at most")
    ->check(positive);
  app.add_option("--grace-seconds", args.grace_seconds,
                 "On SIGTERM or SIGINT: how long running sagas may take to end before they "
                 "stop where they are (they resume on the next start)")
    ->capture_default_str();
  app.add_option("--node", args.node,
                 "This coordinator's name in logs and, with cluster.ha, in etcd (default: the "
                 "--listen endpoint)");
  app.add_flag("--json", args.json, "Print the summary as one JSON object when it stops");
  add_log_level(app, args.log_level);
}

void add_submit(CLI::App& app, submit_args& args) {
  app.add_option("--to", args.to,
                 "The coordinator's HOST:PORT (nexus serve --listen); a replicated cluster's "
                 "coordinators separated by commas: the leader takes the sagas")
    ->required();
  app.add_option("--reconnect-for", args.reconnect_for,
                 "With several coordinators: seconds to look for the next leader when one is lost")
    ->capture_default_str();
  app.add_option("input", args.input, "JSON-lines file of sagas to start, or - for standard input")
    ->required();
  app.add_flag("--detach", args.detach, "Return once the sagas are submitted, not when they end");
  app.add_flag("--json", args.json, "Print one JSON object per saga");
  add_coordinator_client(app, args);
}

void add_stats(CLI::App& app, stats_args& args) {
  app.add_option("--data-dir", args.data_dir, "Event log directory")->capture_default_str();
  app.add_flag("--json", args.json, "Print the figures as one JSON object");
}

void add_validate(CLI::App& app, validate_args& args) {
  app.add_option("workflow", args.workflow, "Workflow file (JSON)")->required();
  app.add_option("--against", args.against,
                 "Event log directory: say, per stored definition, how many unfinished or "
                 "failed sagas could move to this file, and why the others could not");
}

void add_worker(CLI::App& app, worker_args& args) {
  app.add_option("workflow", args.workflow, "Workflow file (JSON), the coordinator's")->required();
  app.add_option("--join", args.join, "The coordinator's HOST:PORT")->required();
  app.add_option("--stages", args.stages,
                 "Steps to serve, by name or SAGA/STEP, separated by commas (default: all)");
  app.add_option("--capacity", args.capacity,
                 "Calls taken at once over all its steps (default: its stages' workers)");
  app.add_flag("--stay", args.stay, "When the coordinator ends its run, wait for the next");
  app.add_option("--reconnect-for", args.reconnect_for,
                 "Seconds to keep looking for the coordinator, at start and when it is lost "
                 "(default: 30; with cluster.ha, as long as it runs)");
  app.add_option("--threads", args.threads, "Scheduler threads, 0 for one per core");
  app.add_option("--node", args.node, "This node's name in logs (default: HOST:PID)");
  app.add_option("--data-dir", args.data_dir,
                 "Directory for its log file (default: runtime.data_dir); it keeps no state");
  auto* cert = app.add_option("--tls-certificate", args.tls_certificate,
                              "Mutual TLS: this node's certificate, in place of cluster.tls's")
                 ->check(CLI::ExistingFile);
  auto* key = app.add_option("--tls-key", args.tls_key, "Mutual TLS: this node's private key")
                ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  app.add_option("--metrics", args.metrics,
                 "Serve GET /metrics (Prometheus) at HOST:PORT: its stages' figures");
  add_log_level(app, args.log_level);
}

} // namespace
} // namespace nexus::app

int main(int argc, char** argv) {
  using namespace nexus::app;
  CLI::App app{"Nexus: durable sagas, pipelines and circuit breakers on actors", "nexus"};
  app.require_subcommand(1);
  app.set_version_flag("--version",
                       nexus::app::version_line() + "\n" + nexus::app::library_versions());
  app.footer("Exit status: 0 done, 1 runtime error, 2 bad usage or bad file.\n"
             "Colours only on a terminal, never with NO_COLOR set.");
  // Each command: its options, bound to its arguments, and what runs it.
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  // run_it's type names the overload: other files' helpers may share a
  // command's name (the build compiles several files as one).
  auto command = [&](const char* name, const char* what, auto& args, auto add_options,
                     int (*run_it)(const std::remove_reference_t<decltype(args)>&)) {
    auto* sub = app.add_subcommand(name, what);
    add_options(*sub, args);
    commands.emplace_back(sub, [&args, run_it] { return run_it(args); });
  };
  run_args run_a;
  events_args events_a;
  sagas_args sagas_a;
  retry_args retry_a;
  signal_args signal_a;
  breakers_args breakers_a;
  stats_args stats_a;
  serve_args serve_a;
  submit_args submit_a;
  worker_args worker_a;
  validate_args validate_a;
  definitions_args definitions_a;
  migrate_args migrate_a;
  bench_args bench_a;
  mcp_args mcp_a;
  command("run", "Resume unfinished sagas, then run new ones to the end", run_a, add_run, run);
  command("events", "Print one saga's events in order", events_a, add_events, events);
  command("sagas", "List the sagas in the event log", sagas_a, add_sagas, sagas);
  command("retry",
          "Compensate failed sagas again, once the cause is fixed, and run them to the end",
          retry_a, add_retry, retry);
  command("signal", "Send a signal to a saga's wait step, durably (to a data directory or a "
          "nexus serve)", signal_a, add_signal, signal);
  command("breakers", "Show each resource's circuit breaker: state, rates, next trial",
          breakers_a, add_breakers, breakers);
  command("stats",
          "Counts by status, and per step attempts, success rate and latency percentiles",
          stats_a, add_stats, stats);
  command("serve", "Coordinate a cluster until stopped, taking sagas from nexus submit", serve_a,
          add_serve, serve);
  command("submit", "Send sagas to a coordinator (nexus serve) and print each one's end",
          submit_a, add_submit, submit);
  command("worker", "Join a coordinator (run --listen) and run the step calls it sends",
          worker_a, add_worker, worker);
  command("mcp",
          "Serve the Model Context Protocol on stdio: AI agents start, watch and cancel sagas",
          mcp_a, add_mcp, mcp);
  command("validate", "Check a workflow file", validate_a, add_validate, validate);
  command("definitions",
          "List the saga definitions in the event log, and how many sagas run on each",
          definitions_a, add_definitions, definitions);
  command("migrate",
          "Move unfinished and failed sagas to a new workflow file's definitions, where safe",
          migrate_a, add_migrate, migrate);
  command("bench", "Measure Nexus against the machine's raw storage and messaging limits",
          bench_a, add_bench, run_bench);
  // `nexus cluster status`: a command of a command.
  cluster_status_args cluster_status_a;
  auto* cluster = app.add_subcommand("cluster", "Replicated coordinators (cluster.ha)");
  cluster->require_subcommand(1);
  auto* status = cluster->add_subcommand(
    "status", "Each coordinator: its role, epoch, position and lag behind the leader");
  status->add_option("--to", cluster_status_a.to,
                     "HOST:PORT of any coordinator's HTTP API (nexus serve --http)")
    ->required();
  status->add_flag("--json", cluster_status_a.json, "Print one JSON object");
  commands.emplace_back(status, [&cluster_status_a] { return cluster_status(cluster_status_a); });
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::cerr << "nexus: unknown command '" << argv[1] << "' (commands: " << names
                << ")\nRun with --help for more information.\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto& [sub, run_it] : commands)
    if (sub->parsed())
      return run_it();
  return 2; // unreachable: one command is required
}
