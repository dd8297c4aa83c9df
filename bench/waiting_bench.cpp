// The waiting phase of `nexus bench`: sagas that wait out of memory (see
// runtime.passivate_after_ms). A child process starts s.waiting_sagas sagas
// that wait for a signal, reports its resident memory once all are parked,
// and kills itself; this process restarts on its log, times the first new
// start, signals a tenth of the sagas, then starts as many that sleep until
// one same second and times their wake-ups.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

#include "actors/engine.hpp"
#include "bench/bench_phases.hpp"
#include "bench/phase_support.hpp"
#include "config/workflow_loader.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::bench {

namespace {

/// Two sagas: `waiter` waits for signal `go` (no time limit), `sleeper`
/// sleeps until its input's `at`; each then runs one simulated step.
/// max_in_flight is room for the whole second of sleepers: they are brought
/// back into memory before they are due, and none should wait for room.
config::workflow waiting_workflow(const settings& s, const std::string& dir) {
  std::string text = R"({"runtime": {"threads": )" + std::to_string(s.threads)
                     + R"(, "data_dir": ")" + dir + R"(", "durability": ")"
                     + std::string{config::to_string(s.durability)}
                     + R"(", "max_in_flight": 200000},
    "sagas": {
      "waiter": {"steps": [{"name": "go", "action": {"kind": "wait", "signal": "go"}},
                           {"name": "done", "action": {"kind": "simulate"}}]},
      "sleeper": {"steps": [{"name": "nap", "action": {"kind": "sleep", "until": "/input/at"}},
                            {"name": "done", "action": {"kind": "simulate"}}]}}})";
  auto loaded = config::parse_workflow(text, "bench");
  if (!loaded.ok()) { // built from checked settings: a bug, not bad input
    std::fprintf(stderr, "nexus bench: bad built-in workflow: %s\n",
                 loaded.errors.front().to_string().c_str());
    std::abort();
  }
  return std::move(*loaded.value);
}

/// Keeps at most `limit` calls answered by callbacks outstanding.
class window {
public:
  explicit window(std::uint64_t limit) : limit_(limit) {}
  void enter() {
    std::unique_lock<std::mutex> lock{m_};
    cv_.wait(lock, [&] { return sent_ - done_ < limit_; });
    ++sent_;
  }
  void leave() {
    {
      std::lock_guard<std::mutex> lock{m_};
      ++done_;
    }
    cv_.notify_all();
  }
  void drain() {
    std::unique_lock<std::mutex> lock{m_};
    cv_.wait(lock, [&] { return done_ == sent_; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::uint64_t limit_, sent_ = 0, done_ = 0;
};

std::uint64_t tenth(const settings& s) {
  return std::max<std::uint64_t>(1, std::min<std::uint64_t>(100000, s.waiting_sagas / 10));
}

/// Polls until `n` more sagas than `before` have completed (10 minutes at
/// most), showing `what`: false if they did not.
bool completed(actors::engine& e, std::uint64_t before, std::uint64_t n, const char* what,
               reporter& out) {
  return poll_until(
    [&] {
      auto done = e.counts().completed - before;
      out.update(grouped(static_cast<double>(done)) + " of " + grouped(static_cast<double>(n))
                 + " " + what);
      return done >= n;
    },
    600);
}

} // namespace

int waiting_child(const settings& s, const std::string& dir) {
  return run_child(waiting_workflow(s, dir), [&](actors::engine& e) {
    window w{8192};
    std::atomic<std::uint64_t> refused{0};
    for (std::uint64_t i = 1; i <= s.waiting_sagas; ++i) {
      w.enter();
      e.start_then("waiter", "wait-" + std::to_string(i), "{}",
                   [&](actors::start_result r) {
                     if (r != actors::start_result::started)
                       ++refused;
                     w.leave();
                   });
      if (i % 16384 == 0) {
        std::printf("started %llu\n", static_cast<unsigned long long>(i));
        std::fflush(stdout);
      }
    }
    w.drain();
    // Every start is durable; each saga parked with it (its first step waits
    // with no time limit): what this process holds now is what they cost.
    if (!poll_until([&] { return e.counts().parked >= s.waiting_sagas; }, 60)) {
      std::fprintf(stderr, "nexus: only %llu of the sagas parked (%llu refused)\n",
                   static_cast<unsigned long long>(e.counts().parked),
                   static_cast<unsigned long long>(refused.load()));
      return 1;
    }
    std::printf("parked %llu rss %llu log %llu\n", static_cast<unsigned long long>(s.waiting_sagas),
                static_cast<unsigned long long>(resident_bytes()),
                static_cast<unsigned long long>(e.log_memory_bytes()));
    std::fflush(stdout);
    ::kill(::getpid(), SIGKILL);
    return 1;
  });
}

waiting_figures waiting(const settings& s, const std::string& exe, reporter& out) {
  waiting_figures f;
  f.sagas = s.waiting_sagas;
  auto dir = s.dir + "/waiting";
  auto err_file = s.dir + "/waiting-child.err";
  remove_dir(dir);
  auto started_at = clock_type::now();
  bool killed = run_killed_child(
    exe,
    {"bench", "--waiting-child", dir, "--waiting-sagas", std::to_string(s.waiting_sagas),
     "--durability", std::string{config::to_string(s.durability)}, "--threads",
     std::to_string(s.threads)},
    err_file,
    [&](const char* line) {
      unsigned long long a = 0, b = 0, c = 0;
      if (std::sscanf(line, "started %llu", &a) == 1) {
        out.update("child run: " + grouped(static_cast<double>(a)) + " of "
                   + grouped(static_cast<double>(s.waiting_sagas)) + " sagas started");
      } else if (std::sscanf(line, "parked %llu rss %llu log %llu", &a, &b, &c) == 3) {
        f.parked = a;
        f.rss_bytes = b;
        f.log_bytes = c;
        f.start_seconds = since(started_at);
      }
    },
    f.error);
  if (killed && f.parked == 0)
    f.error = "the child run was killed before it parked its sagas";
  if (!f.error.empty()) {
    remove_dir(dir);
    return f;
  }

  auto wf = waiting_workflow(s, dir);
  if (!start_logging(wf, f.error))
    return f;
  auto n = tenth(s);
  f.signalled = n;
  f.timers = n;
  {
    // Restart: the first new saga's start, durable, from the open on.
    auto restart = clock_type::now();
    actors::engine e{wf, {}};
    if (!e.ok()) {
      f.error = e.error();
      return f;
    }
    auto probe = e.start("waiter", "probe-1");
    f.first_start_seconds = since(restart);
    if (probe != actors::start_result::started) {
      f.error = "the restarted run refused a new saga";
      return f;
    }
    f.parked_after_restart = e.counts().parked;
    out.update("restarted: a new saga in " + std::to_string(f.first_start_seconds) + " s");

    // A tenth of them signalled, as fast as they are taken.
    window w{4096};
    std::atomic<std::uint64_t> not_stored{0};
    std::mutex first_m;
    std::string first_refusal;
    auto before = e.counts().completed;
    auto signalling = clock_type::now();
    for (std::uint64_t i = 1; i <= n; ++i) {
      w.enter();
      e.signal_then({"wait-" + std::to_string(i), "go", "", ""},
                    [&](runtime::signal_result r, const std::string& detail) {
                      if (r != runtime::signal_result::stored && ++not_stored == 1) {
                        std::lock_guard<std::mutex> lock{first_m};
                        first_refusal = std::to_string(static_cast<int>(r)) + " " + detail;
                      }
                      w.leave();
                    });
    }
    w.drain();
    bool all = not_stored == 0 && completed(e, before, n, "signalled sagas completed", out);
    f.signal_seconds = since(signalling);
    f.signalled_per_sec = static_cast<double>(n) / f.signal_seconds;
    if (!all || not_stored > 0) {
      f.error = std::to_string(not_stored.load()) + " signals not stored (the first: "
                + first_refusal + "), " + (all ? "all" : "not all") + " signalled sagas completed";
      e.wait_for(std::chrono::milliseconds(0));
      remove_dir(dir);
      return f;
    }

    // As many sleepers, all due in one second: far enough ahead that every
    // one parks when it starts (passivate_after_ms 5,000) and has parked
    // before it is due.
    auto due_us = storage::now_us() + 6'000'000
                  + static_cast<std::int64_t>(static_cast<double>(n) / 20000.0 * 1e6);
    auto input = R"({"at": ")" + storage::format_timestamp(due_us) + R"("})";
    before = e.counts().completed;
    for (std::uint64_t i = 1; i <= n; ++i) {
      w.enter();
      e.start_then("sleeper", "sleep-" + std::to_string(i), input,
                   [&](actors::start_result) { w.leave(); });
    }
    w.drain();
    f.sleepers_parked = e.counts().parked >= n;
    auto until_due = std::max<std::int64_t>(0, due_us - storage::now_us());
    std::this_thread::sleep_for(std::chrono::microseconds(until_due));
    all = completed(e, before, n, "sleepers woke and completed", out);
    // Both figures from the instant itself, on the clock the events carry:
    // a sleep that overshoots it on a busy host must not shorten one of them.
    f.timers_seconds = static_cast<double>(storage::now_us() - due_us) / 1e6;
    if (!all)
      f.error = "not every sleeper completed";
    // When each woke, from its events: its sleep's step_succeeded.
    std::int64_t last_wake = 0;
    for (std::uint64_t i = 1; i <= n && all; ++i)
      e.log()->read_events("sleep-" + std::to_string(i), 1, UINT64_MAX,
                           [&](const storage::event& ev) {
                             if (ev.type == storage::event_type::step_succeeded && ev.step == "nap")
                               last_wake = std::max(last_wake, ev.ts_us);
                             return true;
                           });
    f.timers_fire_seconds = static_cast<double>(last_wake - due_us) / 1e6;
    e.wait_for(std::chrono::milliseconds(0)); // the rest stay parked in the log
  }
  remove_dir(dir);
  char line[200];
  std::snprintf(line, sizeof line,
                "%s parked in %.0f MiB; restart takes a saga in %.2f s; %.0f signalled/s; "
                "%s timers fired in %.2f s (their sagas done in %.2f s)",
                grouped(static_cast<double>(f.parked)).c_str(),
                static_cast<double>(f.rss_bytes) / (1 << 20), f.first_start_seconds,
                f.signalled_per_sec, grouped(static_cast<double>(f.timers)).c_str(),
                f.timers_fire_seconds, f.timers_seconds);
  out.end(line);
  return f;
}

} // namespace nexus::bench
