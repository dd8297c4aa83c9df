// The replicated phase of `nexus bench`: the same durable starts over HTTP
// to one `nexus serve`, then to the leader of two (cluster.ha, one replica,
// leadership in a local etcd), and the cost of replication as their ratio.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <simdjson.h>

#include "bench/bench_phases.hpp"
#include "bench/http_load.hpp"
#include "bench/phase_support.hpp"

namespace nexus::bench {

namespace {

/// A port on 127.0.0.1 that nothing listens on now (the kernel's pick).
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof a;
  std::uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/// `name` on PATH, or "".
std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (std::size_t at = 0; at <= dirs.size();) {
    auto end = dirs.find(':', at);
    if (end == std::string::npos)
      end = dirs.size();
    auto candidate = dirs.substr(at, end - at) + "/" + name;
    if (end > at && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    at = end + 1;
  }
  return {};
}

/// A server the phase starts: its standard output discarded, its standard
/// error in a file; stopped with SIGTERM (or killed) when it goes.
class server_child {
public:
  server_child(const std::string& exe, const std::vector<std::string>& args,
               const std::string& err_file) {
    std::string error;
    pid_ = spawn_child(exe, args, err_file, nullptr, error);
  }
  ~server_child() { stop(SIGTERM); }
  server_child(const server_child&) = delete;
  server_child& operator=(const server_child&) = delete;

  void stop(int sig) {
    if (pid_ <= 0)
      return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

private:
  pid_t pid_ = -1;
};

/// Whether GET /readyz answers ready (a follower answers 307, a problem
/// document while it is not).
bool ready(std::uint16_t port) {
  return http_get("127.0.0.1", port, "/readyz").find(R"("status":"ready")") != std::string::npos;
}

/// Whether the leader's GET /v1/cluster counts a follower that has caught up.
bool has_replica(std::uint16_t port) {
  simdjson::dom::parser parser;
  simdjson::dom::array followers;
  if (parser.parse(http_get("127.0.0.1", port, "/v1/cluster"))["followers"].get(followers)
      != simdjson::SUCCESS)
    return false;
  for (auto f : followers) {
    bool catching_up = true;
    if (f["catching_up"].get(catching_up) == simdjson::SUCCESS && !catching_up)
      return true;
  }
  return false;
}

/// `sagas` starts, closed loop on 64 connections, to the server at `port`,
/// and the time until every saga has ended.
replicated_run drive(std::uint16_t port, std::uint64_t sagas, const std::string& prefix) {
  replicated_run run;
  http_load_spec spec;
  spec.port = port;
  spec.connections = 64;
  spec.requests = sagas;
  spec.prefix = prefix;
  auto begun = clock_type::now();
  auto load = run_http_load(spec);
  run.starts = load.created;
  if (!load.error.empty() || load.other > 0) {
    run.error = load.error.empty() ? std::to_string(load.other) + " starts not answered 201"
                                   : load.error;
    return run;
  }
  if (!poll_until([&] { return not_ended(http_get("127.0.0.1", port, "/v1/stats")) == 0; }, 300)) {
    run.error = "its sagas did not end within 300 s";
    return run;
  }
  auto seconds = since(begun);
  run.sagas_per_sec = seconds > 0 ? static_cast<double>(load.created) / seconds : 0;
  run.start = latency_of(load.latency_ms);
  return run;
}

} // namespace

replicated_figures replicated(const settings& s, const std::string& exe, reporter& out) {
  replicated_figures f;
  f.sagas = std::max<std::uint64_t>(1, s.sagas / 2);
  auto etcd = on_path("etcd");
  if (etcd.empty()) {
    f.error = "etcd is not installed (scripts/setup installs Debian's etcd-server): the "
              "replicated phase needs it to elect the leader";
    return f;
  }
  auto dir = s.dir + "/replicated";
  remove_dir(dir);
  std::filesystem::create_directories(dir);
  auto workflow = [&](const std::string& name, const std::string& cluster) {
    auto path = dir + "/" + name + ".json";
    auto text = bench_workflow_text(s, dir + "/" + name, 0, s.in_flight);
    std::ofstream{path} << "{" << cluster << text.substr(1);
    return path;
  };

  // One node: the same starts, in the same run, for the ratio.
  {
    out.update("one node: " + grouped(static_cast<double>(f.sagas)) + " starts over HTTP");
    auto http = free_port();
    server_child single{exe,
                        {"serve", workflow("single", ""), "--http",
                         "127.0.0.1:" + std::to_string(http)},
                        dir + "/single.err"};
    if (!poll_until([&] { return ready(http); }, 60)) {
      f.error = "the single nexus serve did not get ready within 60 s (" + dir + "/single.err)";
      return f;
    }
    f.single = drive(http, f.sagas, "one");
    if (!f.single.error.empty()) {
      f.error = "one node: " + f.single.error;
      return f;
    }
  }

  // A leader and one follower, leadership in a local etcd.
  auto client = free_port(), peer = free_port();
  auto etcd_url = "http://127.0.0.1:" + std::to_string(client);
  auto peer_url = "http://127.0.0.1:" + std::to_string(peer);
  server_child elector{etcd,
                       {"--name", "bench", "--data-dir", dir + "/etcd", "--listen-client-urls",
                        etcd_url, "--advertise-client-urls", etcd_url, "--listen-peer-urls",
                        peer_url, "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
                        "bench=" + peer_url},
                       dir + "/etcd.err"};
  auto ha = workflow("ha", R"("cluster": {"name": "bench-ha", "ha": {"etcd": [")" + etcd_url
                               + R"("], "lease_ms": 3000, "min_replicas": 1}}, )");
  std::uint16_t http[2] = {free_port(), free_port()};
  std::vector<std::unique_ptr<server_child>> nodes;
  for (int i = 0; i < 2; ++i) {
    auto node = "n" + std::to_string(i);
    nodes.push_back(std::make_unique<server_child>(
      exe,
      std::vector<std::string>{"serve", ha, "--listen", "127.0.0.1:" + std::to_string(free_port()),
                               "--http", "127.0.0.1:" + std::to_string(http[i]), "--node", node,
                               "--data-dir", dir + "/" + node},
      dir + "/" + node + ".err"));
  }
  out.update("two nodes: electing a leader");
  std::uint16_t leader = 0;
  auto elected = poll_until(
    [&] {
      for (auto port : http)
        if (ready(port) && has_replica(port)) {
          leader = port;
          return true;
        }
      return false;
    },
    60);
  if (!elected) {
    f.error = "no leader with a replica within 60 s (" + dir + "/n0.err, n1.err, etcd.err)";
    return f;
  }
  out.update("two nodes: " + grouped(static_cast<double>(f.sagas)) + " starts over HTTP");
  f.replicated = drive(leader, f.sagas, "two");
  if (!f.replicated.error.empty())
    f.error = "leader and follower: " + f.replicated.error;
  nodes.clear(); // before etcd, so that they step down cleanly
  elector.stop(SIGTERM);
  if (f.error.empty())
    remove_dir(dir);
  char text[200];
  std::snprintf(text, sizeof text, "%s sagas/s replicated, %s on one node (%.2f); p99 %.2f ms vs %.2f",
                grouped(f.replicated.sagas_per_sec).c_str(), grouped(f.single.sagas_per_sec).c_str(),
                f.ratio(), f.replicated.start.p99, f.single.start.p99);
  out.end(text);
  return f;
}

} // namespace nexus::bench
