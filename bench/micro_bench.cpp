// Micro benchmarks of the hot paths that involve no actors: the saga machine,
// the breaker machine, event encoding, keys, and a log line as a saga writes
// it (to a real log file).
// Run: build/bench/nexus_micro_bench  (numbers, not pass/fail)
#include <benchmark/benchmark.h>

#include <filesystem>
#include <unistd.h>

#include "config/workflow_loader.hpp"
#include "runtime/circuit_breaker.hpp"
#include "runtime/logging.hpp"
#include "runtime/saga_log.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/event.hpp"
#include "storage/keys.hpp"

using namespace nexus;

namespace {

const config::workflow& three_step_workflow() {
  static const config::workflow wf = [] {
    auto r = config::parse_workflow(R"({"sagas": {"s": {"steps": [
      {"name": "reserve", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "charge", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "ship", "action": {"kind": "simulate"}}]}}})",
                                    "bench.json");
    return std::move(*r.value);
  }();
  return wf;
}

storage::event sample_event() {
  storage::event e;
  e.seq = 4;
  e.ts_us = 1764048767123456;
  e.cid = "order-6611377b8e110-107";
  e.type = storage::event_type::step_succeeded;
  e.saga = "order";
  e.step = "charge";
  e.attempt = 1;
  e.output = R"({"done":"charge","attempt":1,"ref":"8208aeccd140dae1"})";
  return e;
}

/// Reports the time per transition (machine input) of a benchmark that
/// makes `per_iteration` of them per iteration.
void per_transition(benchmark::State& state, double per_iteration) {
  auto n = per_iteration * static_cast<double>(state.iterations());
  state.counters["transitions/s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["s/transition"] =
    benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

/// A whole three-step saga: 4 inputs, 8 events, per iteration.
void saga_machine_three_steps(benchmark::State& state) {
  auto& spec = three_step_workflow().sagas.at("s");
  runtime::transition t;
  runtime::outcome ok = runtime::outcome::success(R"({"r":1})");
  for (auto _ : state) {
    runtime::saga_machine m{spec, "order-6611377b8e110-107"};
    t.events.clear();
    t.commands.clear();
    m.start("{}", 1, t);
    for (std::uint32_t i = 0; i < 3; ++i)
      m.step_finished(i, 1, ok, 2, t);
    benchmark::DoNotOptimize(t.events.data());
  }
  per_transition(state, 4);
}
BENCHMARK(saga_machine_three_steps);

/// Fail transiently and retry, then fail for good and compensate: 8 inputs
/// (start, 3 outcomes, a due retry, 1 more outcome, 2 compensations).
void saga_machine_retry_and_compensate(benchmark::State& state) {
  auto& spec = three_step_workflow().sagas.at("s");
  runtime::transition t;
  auto ok = runtime::outcome::success(R"({"r":1})");
  auto busy = runtime::outcome::failure(config::error_kind::transient, "busy");
  auto declined = runtime::outcome::failure(config::error_kind::permanent, "declined");
  for (auto _ : state) {
    runtime::saga_machine m{spec, "order-6611377b8e110-107"};
    t.events.clear();
    t.commands.clear();
    m.start("{}", 1, t);
    m.step_finished(0, 1, ok, 2, t);
    m.step_finished(1, 1, busy, 3, t);
    m.retry_due(1, 2, false, 4, t);
    m.step_finished(1, 2, ok, 5, t);
    m.step_finished(2, 1, declined, 6, t);
    m.compensation_finished(1, 1, ok, 7, t);
    m.compensation_finished(0, 1, ok, 8, t);
    benchmark::DoNotOptimize(t.events.data());
  }
  per_transition(state, 8);
}
BENCHMARK(saga_machine_retry_and_compensate);

/// Cancelled during a retry wait: start, outcome, outcome, cancel, compensation.
void saga_machine_cancel(benchmark::State& state) {
  auto& spec = three_step_workflow().sagas.at("s");
  runtime::transition t;
  auto ok = runtime::outcome::success(R"({"r":1})");
  auto busy = runtime::outcome::failure(config::error_kind::transient, "busy");
  for (auto _ : state) {
    runtime::saga_machine m{spec, "order-6611377b8e110-107"};
    t.events.clear();
    t.commands.clear();
    m.start("{}", 1, t);
    m.step_finished(0, 1, ok, 2, t);
    m.step_finished(1, 1, busy, 3, t);
    m.cancel(4, t);
    m.compensation_finished(0, 1, ok, 5, t);
    benchmark::DoNotOptimize(t.events.data());
  }
  per_transition(state, 5);
}
BENCHMARK(saga_machine_cancel);

/// Recovery's fold: one stored event replayed into a machine, per item.
void saga_machine_replay(benchmark::State& state) {
  auto& spec = three_step_workflow().sagas.at("s");
  runtime::transition history;
  {
    runtime::saga_machine m{spec, "order-6611377b8e110-107"};
    auto ok = runtime::outcome::success(R"({"r":1})");
    m.start("{}", 1, history);
    m.step_finished(0, 1, ok, 2, history);
    m.step_finished(1, 1, runtime::outcome::failure(config::error_kind::transient, "busy"), 3,
                    history);
    m.retry_due(1, 2, false, 4, history);
    m.step_finished(1, 2, ok, 5, history);
  }
  std::string err;
  for (auto _ : state) {
    runtime::saga_machine m{spec, "order-6611377b8e110-107"};
    for (auto& e : history.events)
      m.replay(e, err);
    runtime::transition next;
    m.resume(6, next);
    benchmark::DoNotOptimize(next.commands.data());
  }
  per_transition(state, static_cast<double>(history.events.size()));
}
BENCHMARK(saga_machine_replay);

void encode_event(benchmark::State& state) {
  auto e = sample_event();
  std::string out;
  for (auto _ : state) {
    out.clear();
    storage::encode_event(e, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(encode_event);

void decode_event(benchmark::State& state) {
  std::string json, err;
  storage::encode_event(sample_event(), json);
  storage::event e;
  for (auto _ : state)
    benchmark::DoNotOptimize(storage::decode_event(json, e, err));
}
BENCHMARK(decode_event);

void build_event_key(benchmark::State& state) {
  std::uint64_t seq = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(storage::event_key("order-6611377b8e110-107", ++seq));
}
BENCHMARK(build_event_key);

/// A closed breaker's work per call: a permit, then the outcome counted in
/// its count window (one call in 20 failing, below the threshold).
void breaker_closed_call(benchmark::State& state) {
  config::breaker_spec spec;
  spec.minimum_calls = 10;
  runtime::circuit_breaker b{spec};
  std::vector<runtime::breaker_transition> out;
  std::int64_t now = 1'000'000;
  std::uint64_t n = 0;
  for (auto _ : state) {
    auto p = b.try_acquire(++now, out);
    b.on_result(p.generation, ++n % 20 != 0, config::error_kind::transient, 1000, ++now, out);
    out.clear();
  }
}
BENCHMARK(breaker_closed_call);

/// An open breaker refusing a call.
void breaker_open_refusal(benchmark::State& state) {
  config::breaker_spec spec;
  spec.minimum_calls = 2;
  spec.window_size = 2;
  spec.open_ms = 3'600'000;
  runtime::circuit_breaker b{spec};
  std::vector<runtime::breaker_transition> out;
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 2; ++i) {
    auto p = b.try_acquire(now, out);
    b.on_result(p.generation, false, config::error_kind::transient, 1000, now, out);
  }
  if (b.state() != runtime::breaker_state::open)
    state.SkipWithError("the breaker did not open");
  for (auto _ : state)
    benchmark::DoNotOptimize(b.try_acquire(++now, out));
}
BENCHMARK(breaker_open_refusal);

/// The log of a run, set up once: JSON lines to a file in a fresh
/// directory (rotated, watched), the console at warn, level info.
void log_to_a_file() {
  static const bool once = [] {
    auto dir = std::filesystem::temp_directory_path()
               / ("nexus-micro-bench-log-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::string error;
    config::logging_settings settings;
    if (!runtime::setup_logging(settings, dir.string(), error))
      throw std::runtime_error(error);
    std::atexit([] {
      spdlog::shutdown();
      std::filesystem::remove_all(std::filesystem::temp_directory_path()
                                  / ("nexus-micro-bench-log-" + std::to_string(::getpid())));
    });
    return true;
  }();
  (void)once;
}

/// A saga's line at info, with its context, written to the log file: what
/// a failed attempt costs the saga that logs it.
void log_line_to_file(benchmark::State& state) {
  log_to_a_file();
  std::string message = "simulated failure (fail_rate)";
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    runtime::log_context ctx{"order-6611377b8e110-107", "order", "charge", ++attempt};
    runtime::log(spdlog::level::info, ctx, "step failed: {}: {}", "transient", message);
  }
}
BENCHMARK(log_line_to_file)->Threads(1)->Threads(2);

/// A saga's start as the saga actor logs it (one event, one line).
void log_saga_start(benchmark::State& state) {
  log_to_a_file();
  runtime::saga_machine m{three_step_workflow().sagas.at("s"), "order-6611377b8e110-107"};
  std::vector<storage::event> events(1);
  events[0].type = storage::event_type::saga_started;
  for (auto _ : state)
    runtime::log_saga_events(m, events);
}
BENCHMARK(log_saga_start);

/// A line below the level (a step's start at debug, the level at info).
void log_line_below_level(benchmark::State& state) {
  log_to_a_file();
  std::uint32_t attempt = 0;
  for (auto _ : state) {
    runtime::log_context ctx{"order-6611377b8e110-107", "order", "charge", ++attempt};
    runtime::log(spdlog::level::debug, ctx, "step started");
  }
}
BENCHMARK(log_line_below_level);

} // namespace

BENCHMARK_MAIN();
