#include <functional>
#include <iostream>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "app/versions.hpp"

int main(int argc, char** argv) {
  using namespace nexus::app;
  CLI::App app{"Nexus: durable sagas, pipelines and circuit breakers on actors", "nexus"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"nexus "} + nexus::app::nexus_version + "\n"
                                      + nexus::app::library_versions());
  app.footer("Exit status: 0 done, 1 runtime error, 2 bad usage or bad file.\n"
             "Colours only on a terminal, never with NO_COLOR set.");
  // Each command: its options, bound to its arguments, and what runs it.
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  auto command = [&](const char* name, const char* what, auto& args, auto add_options,
                     auto run_it) {
    auto* sub = app.add_subcommand(name, what);
    add_options(*sub, args);
    commands.emplace_back(sub, [&args, run_it] { return run_it(args); });
  };
  run_args run_a;
  events_args events_a;
  sagas_args sagas_a;
  retry_args retry_a;
  breakers_args breakers_a;
  stats_args stats_a;
  serve_args serve_a;
  submit_args submit_a;
  worker_args worker_a;
  validate_args validate_a;
  bench_args bench_a;
  mcp_args mcp_a;
  command("run", "Resume unfinished sagas, then run new ones to the end", run_a, add_run, run);
  command("events", "Print one saga's events in order", events_a, add_events, events);
  command("sagas", "List the sagas in the event log", sagas_a, add_sagas, sagas);
  command("retry",
          "Compensate failed sagas again, once the cause is fixed, and run them to the end",
          retry_a, add_retry, retry);
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
  command("bench", "Measure Nexus against the machine's raw storage and messaging limits",
          bench_a, add_bench, run_bench);
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
