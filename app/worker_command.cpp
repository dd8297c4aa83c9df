#include <atomic>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <iostream>

#include <unistd.h>
#include <sstream>

#include "actors/worker.hpp"
#include "app/commands.hpp"
#include "app/metrics.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"

namespace nexus::app {

namespace {

std::atomic<bool> worker_stop_requested{false};

extern "C" void on_worker_stop_signal(int) {
  worker_stop_requested = true;
}

} // namespace

int worker(const worker_args& args) {
  config::workflow wf;
  if (!load_or_report(args.workflow, {args.data_dir, args.log_level}, wf))
    return 2;
  if (!args.tls_certificate.empty()) {
    if (!wf.cluster.tls.on()) {
      std::cerr << "nexus: --tls-certificate: the workflow's cluster has no tls (cluster.tls.ca)\n";
      return 2;
    }
    wf.cluster.tls.certificate = args.tls_certificate;
    wf.cluster.tls.key = args.tls_key;
  }
  actors::worker_options opts;
  std::string error;
  if (!parse_endpoint("--join", args.join, opts.host, opts.port, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  std::stringstream names{args.stages};
  for (std::string name; std::getline(names, name, ',');)
    if (!name.empty())
      opts.stages.push_back(name);
  opts.capacity = args.capacity;
  opts.stay = args.stay;
  // A replicated cluster always gets its next leader: looked for as long
  // as it takes unless told otherwise.
  opts.reconnect_seconds = args.reconnect_for;
  if (!args.reconnect_for && !wf.cluster.ha.on())
    opts.reconnect_seconds = 30;
  opts.token = cluster_token(wf);
  opts.node = args.node.empty() ? runtime::log_node() + ":" + std::to_string(::getpid()) : args.node;
  opts.threads = args.threads;
  if (!args.metrics.empty()) {
    std::string host;
    std::uint16_t port = 0;
    if (!parse_endpoint("--metrics", args.metrics, host, port, error)) {
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
  }
  // Its own log file beside the coordinator's, when they share a directory.
  if (std::filesystem::path{wf.logging.file}.is_relative()) {
    std::string name = opts.node;
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_')
        c = '-';
    wf.logging.file = "logs/worker-" + name + ".jsonl";
  }
  if (!runtime::setup_logging(wf.logging, wf.runtime.data_dir, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  // SIGTERM and SIGINT stop it (exit 0): its calls in flight go back to
  // the coordinator, which sends them elsewhere.
  worker_stop_requested = false;
  opts.stop = &worker_stop_requested;
  std::signal(SIGTERM, on_worker_stop_signal);
  std::signal(SIGINT, on_worker_stop_signal);
  runtime::meter_board meters;
  app::metrics scraper;
  http_server server;
  if (!args.metrics.empty()) {
    opts.meters = &meters;
    if (!serve_metrics(server, args.metrics, [&] { return scraper.scrape(meters); }, error)) {
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
  }
  auto end = actors::run_worker(wf, opts, error);
  server.stop();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  if (end != actors::client_end::done)
    std::cerr << "nexus: " << error << '\n';
  return exit_status(end);
}

} // namespace nexus::app
