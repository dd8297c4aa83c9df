// What a closed circuit breaker adds to a step's call: round trips to a
// stage directly and through a breaker actor, side by side in one run.
//
//   build/bench/nexus_breaker_bench [--calls N] [--concurrent C] [--rounds R]
//
// Each round measures `calls` round trips both ways, C at a time (C = 1:
// one after another, the latency a saga sees), alternating which goes
// first; the best round of each is printed, per call, with the difference.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <caf/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/stage.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

using namespace nexus;
using clock_type = std::chrono::steady_clock;

namespace {

struct settings {
  std::uint64_t calls = 200000;
  std::uint32_t concurrent = 1;
  std::uint32_t rounds = 5;
};

struct driver_state {
  step_target target;
  std::uint64_t left = 0;
  std::uint64_t in_flight = 0;
  clock_type::time_point started;
  caf::response_promise done;
};

/// Sends `calls` execute requests to `target`, `concurrent` at a time, and
/// answers (run_atom) with the nanoseconds it took.
caf::behavior driver(caf::stateful_actor<driver_state>* self, step_target target) {
  self->state.target = std::move(target);
  auto send_one = [self](auto& again) -> void {
    auto& st = self->state;
    --st.left;
    ++st.in_flight;
    step_call call{"bench-1", "bench", "noop", 1, false, "{}",
                   storage::now_us() + 60'000'000};
    self->request(st.target, caf::infinite, execute_atom::value, std::move(call))
      .then([self, again](step_result&) {
        auto& st = self->state;
        --st.in_flight;
        if (st.left > 0)
          again(again);
        else if (st.in_flight == 0)
          st.done.deliver(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - st.started)
              .count()));
      });
  };
  return {
    [=](run_atom, std::uint64_t calls, std::uint32_t concurrent) -> caf::result<std::uint64_t> {
      auto& st = self->state;
      st.left = calls;
      st.started = clock_type::now();
      st.done = self->make_response_promise();
      for (std::uint32_t i = 0; i < concurrent && st.left > 0; ++i)
        send_one(send_one);
      return caf::delegated<std::uint64_t>{};
    },
  };
}

double per_call_ns(caf::actor_system& sys, const step_target& target, const settings& s) {
  auto d = sys.spawn(driver, target);
  std::uint64_t ns = 0;
  caf::scoped_actor self{sys};
  self->request(d, caf::infinite, run_atom::value, s.calls, s.concurrent)
    .receive([&](std::uint64_t took) { ns = took; },
             [&](caf::error& e) { std::fprintf(stderr, "%s\n", caf::to_string(e).c_str()); });
  self->send_exit(d, caf::exit_reason::user_shutdown);
  return static_cast<double>(ns) / static_cast<double>(s.calls);
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--calls"))
      s.calls = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--concurrent"))
      s.concurrent = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (!std::strcmp(argv[i], "--rounds"))
      s.rounds = static_cast<std::uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
  }
  auto dir = std::filesystem::temp_directory_path() / "nexus-breaker-bench";
  std::filesystem::remove_all(dir);
  std::string err;
  auto log = storage::event_log::open(
    storage::log_options::writer(dir.string(), config::durability::none), err);
  if (!log) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  config::step_spec step;
  step.name = "noop";
  step.resource = "bench";
  config::breaker_spec spec; // Resilience4j's defaults: stays closed for successes
  double best_direct = 1e18, best_breaker = 1e18;
  {
    actors::system_config cfg{0};
    caf::actor_system sys{cfg};
    auto writer = actors::spawn_event_log_writer(sys, *log, 64);
    auto stage = actors::spawn_stage(sys, "bench/noop", step, cfg.threads(), 1u << 20, nullptr);
    actors::breaker_setup setup;
    setup.resource = "bench";
    setup.spec = &spec;
    setup.writer = writer;
    setup.stages[actors::stage_key("bench", "noop")] = stage;
    auto breaker = actors::spawn_breaker(sys, std::move(setup));
    std::printf("%llu calls a round, %u at a time, %u rounds, %u scheduler threads\n",
                static_cast<unsigned long long>(s.calls), s.concurrent, s.rounds, cfg.threads());
    for (std::uint32_t r = 0; r < s.rounds; ++r) {
      bool direct_first = r % 2 == 0;
      for (int k = 0; k < 2; ++k) {
        bool direct = (k == 0) == direct_first;
        auto ns = per_call_ns(sys, direct ? step_target{stage} : step_target{breaker}, s);
        auto& best = direct ? best_direct : best_breaker;
        best = std::min(best, ns);
      }
    }
    caf::scoped_actor self{sys};
    self->send_exit(breaker, caf::exit_reason::user_shutdown);
    self->send_exit(stage, caf::exit_reason::user_shutdown);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(writer);
  }
  std::printf("%-36s %10.3f us/call\n", "direct to the stage", best_direct / 1000);
  std::printf("%-36s %10.3f us/call\n", "through a closed breaker", best_breaker / 1000);
  std::printf("%-36s %10.3f us/call\n", "added by the breaker", (best_breaker - best_direct) / 1000);
  std::filesystem::remove_all(dir);
  return 0;
}
