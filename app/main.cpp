#include <iostream>

#include <CLI/CLI.hpp>

#include "app/commands.hpp"
#include "runtime/versions.hpp"

int main(int argc, char** argv) {
  using namespace nexus::app;
  CLI::App app{"Nexus: durable sagas, pipelines and circuit breakers on actors", "nexus"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string{"nexus "} + nexus::runtime::nexus_version + "\n"
                                      + nexus::runtime::library_versions());
  app.footer("Exit status: 0 done, 1 runtime error, 2 bad usage or bad file.\n"
             "Colours only on a terminal, never with NO_COLOR set.");
  run_args run_a;
  events_args events_a;
  sagas_args sagas_a;
  validate_args validate_a;
  retry_args retry_a;
  breakers_args breakers_a;
  stats_args stats_a;
  worker_args worker_a;
  serve_args serve_a;
  submit_args submit_a;
  auto* run_cmd = app.add_subcommand("run", "Resume unfinished sagas, then run new ones to the end");
  add_run(*run_cmd, run_a);
  auto* events_cmd = app.add_subcommand("events", "Print one saga's events in order");
  add_events(*events_cmd, events_a);
  auto* sagas_cmd = app.add_subcommand("sagas", "List the sagas in the event log");
  add_sagas(*sagas_cmd, sagas_a);
  auto* retry_cmd = app.add_subcommand(
    "retry", "Compensate failed sagas again, once the cause is fixed, and run them to the end");
  add_retry(*retry_cmd, retry_a);
  auto* breakers_cmd = app.add_subcommand(
    "breakers", "Show each resource's circuit breaker: state, rates, next trial");
  add_breakers(*breakers_cmd, breakers_a);
  auto* stats_cmd = app.add_subcommand(
    "stats", "Counts by status, and per step attempts, success rate and latency percentiles");
  add_stats(*stats_cmd, stats_a);
  auto* serve_cmd = app.add_subcommand(
    "serve", "Coordinate a cluster until stopped, taking sagas from nexus submit");
  add_serve(*serve_cmd, serve_a);
  auto* submit_cmd = app.add_subcommand(
    "submit", "Send sagas to a coordinator (nexus serve) and print each one's end");
  add_submit(*submit_cmd, submit_a);
  auto* worker_cmd = app.add_subcommand(
    "worker", "Join a coordinator (run --listen) and run the step calls it sends");
  add_worker(*worker_cmd, worker_a);
  auto* validate_cmd = app.add_subcommand("validate", "Check a workflow file");
  add_validate(*validate_cmd, validate_a);
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
  if (run_cmd->parsed())
    return run(run_a);
  if (events_cmd->parsed())
    return events(events_a);
  if (sagas_cmd->parsed())
    return sagas(sagas_a);
  if (retry_cmd->parsed())
    return retry(retry_a);
  if (breakers_cmd->parsed())
    return breakers(breakers_a);
  if (stats_cmd->parsed())
    return stats(stats_a);
  if (worker_cmd->parsed())
    return worker(worker_a);
  if (serve_cmd->parsed())
    return serve(serve_a);
  if (submit_cmd->parsed())
    return submit(submit_a);
  return validate(validate_a);
}
