#include <cstdlib>
#include <iostream>

#include "actors/engine.hpp"
#include "app/metrics.hpp"
#include "app/progress_bar.hpp"
#include "app/commands.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"

namespace nexus::app {

bool parse_endpoint(const std::string& option, const std::string& text, std::string& host,
                    std::uint16_t& port, std::string& error) {
  auto colon = text.rfind(':');
  // A port alone, or `:PORT`, means this machine only.
  std::string digits = colon == std::string::npos ? text : text.substr(colon + 1);
  host = colon == std::string::npos || colon == 0 ? "127.0.0.1" : text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  bool numeric = !digits.empty() && digits.size() <= 5
                 && digits.find_first_not_of("0123456789") == std::string::npos;
  if (host.empty() || !numeric || std::stoul(digits) > 65535) {
    error = option + " " + text + ": expected HOST:PORT, such as 127.0.0.1:7700";
    return false;
  }
  port = static_cast<std::uint16_t>(std::stoul(digits));
  return true;
}

bool listen_options(const std::string& listen, const std::string& local_stages,
                    const config::workflow& wf, actors::cluster_options& cl, std::string& error) {
  if (!parse_endpoint("--listen", listen, cl.host, cl.port, error))
    return false;
  cl.listen = true;
  cl.local_stages = local_stages == "on";
  cl.token = cluster_token(wf);
  bool loopback = cl.host == "127.0.0.1" || cl.host == "localhost" || cl.host == "::1";
  if (!loopback && cl.token.empty()) {
    error = "--listen " + listen + ": a coordinator reachable beyond this machine needs a "
            "cluster token (cluster.token in the workflow, or NEXUS_CLUSTER_TOKEN)";
    return false;
  }
  cl.on_listening = [](const std::string& host, std::uint16_t port) {
    std::cerr << "nexus: coordinator listening on " << host << ":" << port << std::endl;
  };
  return true;
}

std::string cluster_token(const config::workflow& wf) {
  auto* env = std::getenv("NEXUS_CLUSTER_TOKEN");
  return env != nullptr && env[0] != '\0' ? std::string{env} : wf.cluster.token;
}

bool load_or_report(const std::string& path, const overrides& o, config::workflow& wf) {
  auto loaded = config::load_workflow(path);
  if (!loaded.ok()) {
    for (auto& e : loaded.errors)
      std::cerr << e.to_string() << '\n';
    return false;
  }
  wf = std::move(*loaded.value);
  if (!o.data_dir.empty())
    wf.runtime.data_dir = o.data_dir;
  if (!o.log_level.empty())
    wf.logging.level = wf.logging.console_level = o.log_level;
  if (o.threads_set)
    wf.runtime.threads = o.threads;
  if (o.max_in_flight > 0)
    wf.runtime.max_in_flight = o.max_in_flight;
  return true;
}

int run(const run_args& args) {
  config::workflow wf;
  if (!load_or_report(args.workflow, overrides_of(args), wf))
    return 2;
  actors::run_options opts;
  opts.input_path = args.input;
  opts.generate = args.generate;
  opts.saga = args.saga;
  opts.on_bad_input = args.on_bad_input == "skip" ? runtime::bad_input_policy::skip
                                                  : runtime::bad_input_policy::stop;
  if (!args.listen.empty()) {
    std::string error;
    if (!listen_options(args.listen, args.local_stages, wf, opts.cluster, error)) {
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
    opts.cluster.expect_workers = args.expect_workers;
    opts.cluster.expect_seconds = args.expect_seconds;
  }
  if (!args.metrics.empty()) {
    std::string host, error;
    std::uint16_t port = 0;
    if (!parse_endpoint("--metrics", args.metrics, host, port, error)) {
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
  }
  return run_and_report(wf, opts, args.json, !args.no_progress, args.metrics);
}

int run_and_report(const config::workflow& wf, const actors::run_options& opts, bool json,
                   bool progress, const std::string& metrics) {
  std::string error;
  if (!runtime::setup_logging(wf.logging, wf.runtime.data_dir, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  runtime::run_summary s;
  int status = 0;
  {
    progress_bar bar;
    std::function<void(const runtime::run_summary&)> draw;
    if (progress && bar.active())
      draw = [&bar](const runtime::run_summary& now) { bar.draw(now); };
    runtime::meter_board meters;
    app::metrics scraper;
    auto run = opts;
    if (!metrics.empty())
      run.meters = &meters;
    actors::engine e{wf, run};
    http_server server; // stopped before the engine it reads goes
    if (e.ok() && !metrics.empty()
        && !serve_metrics(server, metrics, [&] { return scraper.scrape(e); }, error)) {
      e.wait_for(std::chrono::milliseconds(0));
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
    s = e.wait(draw);
    status = s.exit_status;
  }
  if (json) {
    std::cout << s.to_json() << '\n';
  } else if (s.started + s.resumed + s.duplicates > 0 || s.error.empty()) {
    auto finished = s.ended();
    std::cout << "started " << s.started << ", resumed " << s.resumed << ": " << s.completed
              << " completed, " << s.compensated << " compensated, " << s.failed << " failed, "
              << s.cancelled << " cancelled";
    if (s.duplicates > 0)
      std::cout << ", " << s.duplicates << " already in the log (not started again)";
    if (s.skipped > 0)
      std::cout << ", " << s.skipped << " bad input lines skipped";
    std::cout << "\n" << s.events << " events in " << s.seconds << " s ("
              << (s.seconds > 0 ? static_cast<double>(finished) / s.seconds : 0.0)
              << " sagas/s), event log in " << wf.runtime.data_dir << "\n";
  }
  if (!s.error.empty())
    std::cerr << "nexus: " << s.error << '\n';
  return status;
}

} // namespace nexus::app
