#include <cctype>
#include <filesystem>
#include <iostream>

#include <unistd.h>
#include <sstream>

#include "actors/worker.hpp"
#include "app/commands.hpp"
#include "runtime/logging.hpp"

namespace nexus::app {

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
