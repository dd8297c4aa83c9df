#include <csignal>
#include <iostream>
#include <sstream>

#include <pthread.h>

#include "actors/engine.hpp"
#include "actors/remote_tools.hpp"
#include "actors/submit.hpp"
#include "app/commands.hpp"
#include "app/ha_serve.hpp"
#include "app/http_api.hpp"
#include "app/http_server.hpp"
#include "app/mcp_tools.hpp"
#include "config/json_writer.hpp"
#include "runtime/input_source.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"

namespace nexus::app {

// Runs until SIGTERM or SIGINT: the signals are blocked in every thread
// (CAF's threads inherit the mask) and taken here with sigwait.
int serve(const serve_args& args) {
  config::workflow wf;
  if (!load_or_report(args.workflow, overrides_of(args), wf))
    return 2;
  actors::run_options opts;
  std::string error;
  if (args.listen.empty() && args.http.empty()) {
    std::cerr << "nexus: serve needs --http HOST:PORT, --listen HOST:PORT, or both\n";
    return 2;
  }
  if (!args.listen.empty() && !listen_options(args.listen, args.local_stages, wf, opts.cluster, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  http_settings http;
  std::string http_token;
  if (!args.http.empty() && !http_options(args.http, wf, http, http_token, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  if (wf.cluster.ha.on() && (args.listen.empty() || opts.cluster.port == 0)) {
    std::cerr << "nexus: cluster.ha: a replicated coordinator needs --listen HOST:PORT with a "
                 "port of its own (not 0): the leader's followers copy its log through it, and "
                 "etcd names it to them\n";
    return 2;
  }
  if (!args.node.empty())
    runtime::set_log_node(args.node);
  else if (wf.cluster.ha.on())
    runtime::set_log_node(args.listen);
  if (!runtime::setup_logging(wf.logging, wf.runtime.data_dir, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  // The tools of `nexus mcp --connect`, run on this engine.
  opts.cluster.tools = [&wf](actors::engine& e, const std::string& tool, const std::string& a) {
    auto answer = run_mcp_tool(e, wf, tool, a);
    return std::make_pair(answer.is_error, std::move(answer.text));
  };
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  if (wf.cluster.ha.on()) {
    int status = serve_replicated(args, wf, opts, args.http.empty() ? nullptr : &http, http_token,
                                  stop);
    pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
    return status;
  }
  runtime::run_summary s;
  runtime::meter_board meters; // for GET /metrics
  opts.meters = &meters;
  {
    actors::engine e{wf, opts};
    http_server server;
    if (e.ok() && !args.http.empty()) {
      bool loopback = http.host == "127.0.0.1" || http.host == "::1";
      if (!server.start(http, http_api(e, wf, http_token, loopback), error)) {
        std::cerr << "nexus: " << error << '\n';
        e.wait_for(std::chrono::milliseconds(0));
        pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
        return 2;
      }
      std::cerr << "nexus: http listening on " << http.host << ":" << server.port() << std::endl;
    }
    if (!e.ok()) {
      s = e.wait();
    } else {
      int sig = 0;
      sigwait(&stop, &sig);
      server.stop(); // no request reaches an engine that is stopping
      runtime::log(spdlog::level::info, {}, "{}: taking no more sagas; running ones have {} s to end",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT", args.grace_seconds);
      s = e.wait_for(std::chrono::seconds(args.grace_seconds));
    }
  }
  pthread_sigmask(SIG_UNBLOCK, &stop, nullptr);
  return report_end(args, s);
}

int report_end(const serve_args& args, const runtime::run_summary& s) {
  if (args.json)
    std::cout << s.to_json() << '\n';
  else
    std::cout << "started " << s.started << ", resumed " << s.resumed << ": " << s.completed
              << " completed, " << s.compensated << " compensated, " << s.failed << " failed, "
              << s.cancelled << " cancelled, " << s.interrupted
              << " interrupted (they resume on the next start)\n";
  if (!s.error.empty())
    std::cerr << "nexus: " << s.error << '\n';
  return s.exit_status;
}

bool http_options(const std::string& endpoint, const config::workflow& wf, http_settings& out,
                  std::string& token, std::string& error) {
  if (!parse_endpoint("--http", endpoint, out.host, out.port, error))
    return false;
  auto* env = std::getenv("NEXUS_HTTP_TOKEN");
  token = env != nullptr && env[0] != '\0' ? std::string{env} : wf.http.token;
  bool loopback = out.host == "127.0.0.1" || out.host == "localhost" || out.host == "::1";
  if (out.host == "localhost")
    out.host = "127.0.0.1";
  if (!loopback && token.empty()) {
    error = "--http " + endpoint + ": an HTTP API reachable beyond this machine needs a token "
            "(http.token in the workflow, or NEXUS_HTTP_TOKEN)";
    return false;
  }
  out.max_body_bytes = wf.http.max_body_bytes;
  out.max_connections = wf.http.max_connections;
  out.header_timeout_ms = wf.http.header_timeout_ms;
  out.tls_certificate = wf.http.tls_certificate;
  out.tls_key = wf.http.tls_key;
  return true;
}

int exit_status(actors::client_end end) {
  switch (end) {
    case actors::client_end::done:
      return 0;
    case actors::client_end::refused:
      return 2;
    case actors::client_end::lost:
      break;
  }
  return 1;
}

bool coordinator_client(const std::string& option, const std::string& endpoint,
                        const coordinator_client_args& args, actors::submit_options& opts,
                        std::string& error) {
  // HOST:PORT, or a replicated cluster's coordinators separated by commas.
  std::stringstream list{endpoint};
  for (std::string one; std::getline(list, one, ',');) {
    std::pair<std::string, std::uint16_t> to;
    if (!parse_endpoint(option, one, to.first, to.second, error))
      return false;
    opts.coordinators.push_back(std::move(to));
  }
  if (opts.coordinators.empty()) {
    error = option + " " + endpoint + ": expected HOST:PORT, such as 127.0.0.1:7700";
    return false;
  }
  auto* token = std::getenv("NEXUS_CLUSTER_TOKEN");
  opts.token = token != nullptr ? token : "";
  opts.cluster = args.cluster;
  opts.tls_certificate = args.tls_certificate;
  opts.tls_key = args.tls_key;
  opts.tls_ca = args.tls_ca;
  return true;
}

std::unique_ptr<actors::remote_tools> connect_tools(const std::string& option,
                                                    const std::string& endpoint,
                                                    const coordinator_client_args& args,
                                                    int& status) {
  actors::submit_options opts;
  std::string error;
  if (!coordinator_client(option, endpoint, args, opts, error)) {
    std::cerr << "nexus: " << error << '\n';
    status = 2;
    return nullptr;
  }
  auto remote = actors::remote_tools::connect(opts, error);
  if (!remote) {
    std::cerr << "nexus: " << error << '\n';
    status = 1;
  }
  return remote;
}

int submit(const submit_args& args) {
  actors::submit_options opts;
  std::string error;
  if (!coordinator_client("--to", args.to, args, opts, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  auto input = runtime::open_input_file(args.input, error);
  if (!input) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  opts.detach = args.detach;
  opts.report = [&args](const std::string& cid, const std::string& what) {
    if (args.json) {
      std::string out;
      config::json_object_writer w{out};
      w.field("cid", cid).field("status", what);
      w.finish();
      std::cout << out << std::endl;
    } else {
      std::cout << cid << '\t' << what << std::endl;
    }
  };
  opts.notice = [](const std::string& what) { std::cerr << "nexus: " << what << std::endl; };
  opts.reconnect_seconds = args.reconnect_for;
  auto end = actors::submit_sagas(*input, opts, error);
  if (end != actors::client_end::done)
    std::cerr << "nexus: " << error << '\n';
  return exit_status(end);
}

} // namespace nexus::app
