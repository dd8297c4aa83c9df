#include <cctype>
#include <filesystem>
#include <iostream>

#include <unistd.h>
#include <sstream>

#include <CLI/CLI.hpp>

#include "actors/worker.hpp"
#include "app/commands.hpp"
#include "runtime/logging.hpp"

namespace nexus::app {

void add_worker(CLI::App& app, worker_args& args) {
  app.add_option("workflow", args.workflow, "Workflow file (JSON), the coordinator's")->required();
  app.add_option("--join", args.join, "The coordinator's HOST:PORT")->required();
  app.add_option("--stages", args.stages,
                 "Steps to serve, by name or SAGA/STEP, separated by commas (default: all)");
  app.add_option("--capacity", args.capacity,
                 "Calls taken at once over all its steps (default: its stages' workers)");
  app.add_flag("--stay", args.stay, "When the coordinator ends its run, wait for the next");
  app.add_option("--reconnect-for", args.reconnect_for,
                 "Seconds to keep looking for the coordinator, at start and when it is lost")
    ->capture_default_str();
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
  add_log_level(app, args.log_level);
}

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
  opts.reconnect_seconds = args.reconnect_for;
  opts.token = cluster_token(wf);
  opts.node = args.node.empty() ? runtime::log_node() + ":" + std::to_string(::getpid()) : args.node;
  opts.threads = args.threads;
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
  int status = actors::run_worker(wf, opts, error);
  if (status != 0)
    std::cerr << "nexus: " << error << '\n';
  return status;
}

} // namespace nexus::app
