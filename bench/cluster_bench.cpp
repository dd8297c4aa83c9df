// Step calls dispatched to one remote worker over loopback, against the
// one-way message rate of plain CAF remoting between the same two processes,
// side by side in one run.
//
//   build/bench/nexus_cluster_bench [--messages N] [--calls N] [--in-flight K] [--rounds R]
//                                   [--threads T]
//
// The program starts a copy of itself as the worker process. That process
// publishes a sink (counts messages) and a Nexus endpoint with a stage (whose
// simulated step answers at once). This one measures, each round:
//   raw:      N one-way messages to the remote sink, until it has counted them;
//   dispatch: calls through a dispatcher to the remote endpoint, K in flight,
//             each a step_call out and a step_result back (as the dispatcher
//             and the endpoint batch them: many to a network message).
// It prints both rates and their ratio (target: dispatch at least half of raw).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster/dispatcher.hpp"
#include "actors/cluster/endpoint.hpp"
#include "actors/cluster/transport.hpp"
#include "actors/stage.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/timestamp.hpp"

using namespace nexus;

namespace {

using count_atom = caf::atom_constant<caf::atom("count")>;

config::step_spec instant_step(std::uint32_t workers) {
  config::step_spec s;
  s.name = "s";
  s.concurrency = workers;
  s.timeout_ms = 600000;
  return s; // simulate, no latency, no failure: the worker answers at once
}

struct sink_state {
  std::uint64_t received = 0;
  std::uint64_t want = 0;
  caf::response_promise done;
};

/// Counts `(tick_atom, n)`; `(count_atom, want)` answers once `want` arrived.
caf::behavior sink(caf::stateful_actor<sink_state>* self) {
  auto check = [self] {
    auto& st = self->state;
    if (st.want > 0 && st.received >= st.want && st.done.pending()) {
      st.done.deliver(st.received);
      st.received = 0;
      st.want = 0;
    }
  };
  return {
    [=](tick_atom, std::uint64_t) {
      ++self->state.received;
      check();
    },
    [=](count_atom, std::uint64_t want) -> caf::result<std::uint64_t> {
      self->state.want = want;
      self->state.done = self->make_response_promise();
      check();
      return caf::delegated<std::uint64_t>{};
    },
  };
}

int worker_process() {
  actors::system_config cfg{1, "bench"};
  caf::actor_system sys{cfg};
  static auto step = instant_step(4096);
  auto stage = actors::spawn_stage(sys, "b", step, 1, UINT32_MAX, nullptr);
  auto endpoint = actors::spawn_endpoint(sys, {{"b/s", step_target{stage}}});
  auto counter = sys.spawn(sink);
  auto p1 = caf::io::publish(counter, 0, "127.0.0.1");
  auto p2 = caf::io::publish(endpoint, 0, "127.0.0.1");
  if (!p1 || !p2)
    return 1;
  std::printf("%u %u\n", *p1, *p2);
  std::fflush(stdout);
  // Until the parent closes our standard input.
  char c;
  while (::read(STDIN_FILENO, &c, 1) > 0) {
  }
  sys.middleman().unpublish(counter, *p1);
  sys.middleman().unpublish(endpoint, *p2);
  for (auto& a : {counter, endpoint, caf::actor_cast<caf::actor>(stage)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return 0;
}

struct driver_state {
  actors::cluster_dispatcher dispatcher;
  std::uint64_t sent = 0, done = 0, total = 0;
  caf::response_promise finished;
};

step_call make_call(std::uint64_t n) {
  return {"bench-" + std::to_string(n), "b", "s", 1, false, "{}",
          storage::now_us() + 600'000'000};
}

/// Keeps `in_flight` calls going through the dispatcher until `total` ended.
caf::behavior driver(caf::stateful_actor<driver_state>* self,
                     actors::cluster_dispatcher dispatcher) {
  self->state.dispatcher = std::move(dispatcher);
  return {
    [=](run_atom, std::uint64_t total, std::uint32_t in_flight) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      st.total = total;
      st.sent = st.done = 0;
      st.finished = self->make_response_promise();
      for (std::uint32_t i = 0; i < in_flight && st.sent < total; ++i)
        self->send(st.dispatcher, execute_atom::value, make_call(st.sent++));
      return caf::delegated<std::uint64_t>{};
    },
    [=](step_result&) {
      auto& st = self->state;
      ++st.done;
      if (st.sent < st.total)
        self->send(st.dispatcher, execute_atom::value, make_call(st.sent++));
      else if (st.done == st.total)
        st.finished.deliver(st.done);
    },
  };
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && !std::strcmp(argv[1], "--worker-process"))
    return worker_process();
  std::uint64_t messages = 1'000'000, calls = 200'000;
  std::uint32_t in_flight = 1024, rounds = 3, threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--messages"))
      messages = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--calls"))
      calls = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--in-flight"))
      in_flight = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (!std::strcmp(argv[i], "--threads"))
      threads = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (!std::strcmp(argv[i], "--rounds"))
      rounds = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  int to_child[2], from_child[2];
  if (::pipe(to_child) != 0 || ::pipe(from_child) != 0)
    return 1;
  pid_t child = ::fork();
  if (child == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    ::close(to_child[1]);
    ::close(from_child[0]);
    ::execl("/proc/self/exe", argv[0], "--worker-process", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  char line[64] = {};
  auto n = ::read(from_child[0], line, sizeof(line) - 1);
  unsigned sink_port = 0, endpoint_port = 0;
  if (n <= 0 || std::sscanf(line, "%u %u", &sink_port, &endpoint_port) != 2) {
    std::fprintf(stderr, "the worker process did not start\n");
    return 1;
  }
  int status = 0;
  {
    actors::system_config cfg{threads, "bench"};
    caf::actor_system sys{cfg};
    auto remote_sink = sys.middleman().remote_actor("127.0.0.1", static_cast<std::uint16_t>(sink_port));
    auto endpoint = sys.middleman().remote_actor("127.0.0.1", static_cast<std::uint16_t>(endpoint_port));
    if (!remote_sink || !endpoint) {
      std::fprintf(stderr, "cannot reach the worker process\n");
      status = 1;
    } else {
      auto dispatcher = actors::spawn_dispatcher(sys, UINT32_MAX);
      caf::anon_send(dispatcher, join_atom::value, *endpoint, std::string{"worker"},
                     std::vector<std::string>{"b/s"}, in_flight);
      auto drive = sys.spawn(driver, dispatcher);
      caf::scoped_actor self{sys};
      std::printf("%u rounds, %u scheduler threads here, 1 in the worker process, loopback\n",
                  rounds, threads);
      std::printf("%-8s %14s %16s %8s\n", "round", "raw msgs/s", "dispatch calls/s", "ratio");
      double best_raw = 0, best_dispatch = 0;
      for (std::uint32_t r = 0; r < rounds; ++r) {
        auto start = std::chrono::steady_clock::now();
        for (std::uint64_t i = 0; i < messages; ++i)
          self->send(*remote_sink, tick_atom::value, i);
        self->request(*remote_sink, caf::infinite, count_atom::value, messages)
          .receive([](std::uint64_t) {}, [](caf::error&) {});
        auto raw = static_cast<double>(messages) / seconds_since(start);
        start = std::chrono::steady_clock::now();
        self->request(drive, caf::infinite, run_atom::value, calls, in_flight)
          .receive([](std::uint64_t) {}, [](caf::error&) {});
        auto dispatch = static_cast<double>(calls) / seconds_since(start);
        best_raw = std::max(best_raw, raw);
        best_dispatch = std::max(best_dispatch, dispatch);
        std::printf("%-8u %14.0f %16.0f %8.2f\n", r + 1, raw, dispatch, dispatch / raw);
      }
      std::printf("best     %14.0f %16.0f %8.2f  (target: at least 0.50)\n", best_raw,
                  best_dispatch, best_dispatch / best_raw);
      self->send_exit(drive, caf::exit_reason::user_shutdown);
      self->send_exit(dispatcher, caf::exit_reason::user_shutdown);
    }
  }
  ::close(to_child[1]); // the worker process ends
  ::waitpid(child, nullptr, 0);
  return status;
}
