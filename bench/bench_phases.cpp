#include "bench/bench_phases.hpp"

#include "bench/http_load.hpp"
#include "bench/phase_support.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#ifdef NEXUS_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizers' allocator (GCC ships no header for it; clang's
// sanitizer/allocator_interface.h declares the same).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#define NEXUS_SANITIZER_ALLOCATOR 1
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <simdjson.h>

#include "actors/engine.hpp"
#include "actors/saga_actor.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/input_source.hpp"
#include "runtime/latency_histogram.hpp"
#include "runtime/message_tally.hpp"
#include "runtime/logging.hpp"
#include "runtime/meters.hpp"
#include "storage/event_log.hpp"

namespace nexus::bench {

double since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}


double process_cpu_seconds() {
  struct rusage u {};
  ::getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

phase_meter::phase_meter()
    : cpu_seconds_(process_cpu_seconds()), messages_(runtime::messages_taken()) {}

phase_costs phase_meter::per_saga(std::uint64_t sagas) const {
  phase_costs c;
  if (sagas == 0)
    return c;
  auto n = static_cast<double>(sagas);
  c.cpu_ms_per_saga = (process_cpu_seconds() - cpu_seconds_) * 1e3 / n;
  c.messages_per_saga = static_cast<double>(runtime::messages_taken() - messages_) / n;
  return c;
}

std::uint64_t resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  std::uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t heap_in_use() {
#if defined(NEXUS_SANITIZER_ALLOCATOR)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(NEXUS_TCMALLOC)
  std::size_t bytes = 0;
  MallocExtension::instance()->GetNumericProperty("generic.current_allocated_bytes", &bytes);
  return bytes;
#else
  return mallinfo2().uordblks;
#endif
}

bool start_logging(const config::workflow& wf, std::string& error) {
  return runtime::setup_logging(wf.logging, wf.runtime.data_dir, error);
}

latency latency_of(const runtime::latency_histogram& h) {
  latency l;
  auto ms = [&](double q) { return static_cast<double>(h.quantile(q)) / 1e3; };
  l.p50 = ms(0.5);
  l.p90 = ms(0.9);
  l.p99 = ms(0.99);
  l.p999 = ms(0.999);
  l.max = static_cast<double>(h.max()) / 1e3;
  for (double q : {0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9995,
                   0.9999, 1.0})
    l.distribution.emplace_back(q, q < 1.0 ? ms(q) : l.max);
  return l;
}

void remove_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string grouped(double x) {
  auto digits = std::to_string(static_cast<long long>(x + 0.5));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-')
      out += ',';
    out += digits[i];
  }
  return out;
}

// -- progress -----------------------------------------------------------------

void reporter::begin(std::string name) {
  name_ = "[" + std::to_string(++phase_) + "/" + std::to_string(phases_) + "] " + std::move(name);
  if (on_)
    bar_.draw_text(name_ + " ...");
}

void reporter::update(const std::string& text) {
  if (on_)
    bar_.draw_text(name_ + ": " + text);
}

void reporter::update(const runtime::run_summary& s) {
  if (on_)
    bar_.draw_text(name_ + ": " + app::progress_line(s, 200));
}

void reporter::end(const std::string& text) {
  if (!on_)
    return;
  bar_.clear();
  std::fprintf(stderr, "%s: %s\n", name_.c_str(), text.c_str());
}

// -- memory -------------------------------------------------------------------

std::uint64_t peak_rss() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

bool reset_peak_rss() {
  std::ofstream clear{"/proc/self/clear_refs"};
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

// -- the workflow -------------------------------------------------------------

std::string bench_workflow_text(const settings& s, const std::string& dir, double fail_rate,
                                std::uint64_t in_flight, bool slow) {
  std::string steps;
  if (slow) {
    steps = R"({"name": "slow", "timeout_ms": 7200000, "concurrency": 1,
                "action": {"kind": "simulate", "latency_ms": 3600000}})";
  } else {
    for (std::uint32_t i = 1; i <= s.steps; ++i) {
      char step[320];
      std::snprintf(step, sizeof step,
                    R"(%s{"name": "s%u", "action": {"kind": "simulate", "fail_rate": %.6f,
                        "fail_kind": "permanent", "seed": %u},
                        "compensate": {"kind": "simulate"}})",
                    i > 1 ? ", " : "", i, fail_rate, i);
      steps += step;
    }
  }
  std::string durability{config::to_string(s.durability)};
  std::string text = R"({"runtime": {"threads": )" + std::to_string(s.threads) + R"(, "data_dir": )"
                     + "\"" + dir + "\"" + R"(, "durability": ")" + durability
                     + R"(", "max_in_flight": )" + std::to_string(in_flight)
                     + R"(}, "sagas": {"bench": {"steps": [)" + steps + "]}}}";
  return text;
}

config::workflow bench_workflow(const settings& s, const std::string& dir, double fail_rate,
                                std::uint64_t in_flight, bool slow) {
  auto loaded = config::parse_workflow(bench_workflow_text(s, dir, fail_rate, in_flight, slow),
                                       "bench");
  // Built from checked settings: a failure here is a bug, not bad input.
  if (!loaded.ok()) {
    std::fprintf(stderr, "nexus bench: bad built-in workflow: %s\n",
                 loaded.errors.front().to_string().c_str());
    std::abort();
  }
  return std::move(*loaded.value);
}

// -- phases -------------------------------------------------------------------

memory_figures memory(const settings& s, reporter& out) {
  memory_figures f;
  f.sagas = s.memory_sagas;
  f.actor_bytes = actors::saga_actor_bytes();
  auto dir = s.dir + "/memory";
  remove_dir(dir);
  auto wf = bench_workflow(s, dir, 0, s.memory_sagas, true);
  if (!start_logging(wf, f.error))
    return f;
  reset_peak_rss();
  {
    actors::engine e{wf, {}};
    if (!e.ok()) {
      f.error = e.error();
      return f;
    }
    auto before = resident_bytes();
    auto heap_before = heap_in_use();
    auto log_before = e.log_memory_bytes();
    for (std::uint64_t i = 1; i <= s.memory_sagas; ++i)
      e.start_async("bench", runtime::make_correlation_id("bench", i), R"({"n":1})", {});
    // Waits until every saga's call is at the stage: polled, as a
    // benchmark may.
    for (;;) {
      auto stages = e.stages();
      auto& st = stages["bench/slow"];
      std::uint64_t waiting = st.running + st.queued;
      if (waiting >= s.memory_sagas)
        break;
      out.update(grouped(waiting) + " of " + grouped(s.memory_sagas) + " sagas waiting");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto grown = static_cast<double>(resident_bytes()) - static_cast<double>(before);
    auto heap = static_cast<double>(heap_in_use()) - static_cast<double>(heap_before);
    f.log_bytes = e.log_memory_bytes();
    auto log_grown = static_cast<double>(f.log_bytes) - static_cast<double>(log_before);
    auto n = static_cast<double>(s.memory_sagas);
    f.bytes_per_saga_with_log = grown / n;
    f.bytes_per_saga = (grown - log_grown) / n;
    f.heap_bytes_per_saga = heap / n;
    f.peak_rss = peak_rss();
    e.wait_for(std::chrono::milliseconds(0)); // they stop where they are
  }
  remove_dir(dir);
  char line[160];
  std::snprintf(line, sizeof line, "%s sagas waiting, %.0f bytes each (%.0f with the log's buffers)",
                grouped(f.sagas).c_str(), f.bytes_per_saga, f.bytes_per_saga_with_log);
  out.end(line);
  return f;
}

run_figures closed_loop(const settings& s, const std::string& dir, double fail_rate, reporter& out,
                        runtime::meter_board* meters) {
  run_figures f;
  remove_dir(dir);
  auto wf = bench_workflow(s, dir, fail_rate, s.in_flight);
  if (!start_logging(wf, f.error))
    return f;
  reset_peak_rss();
  actors::run_options opts;
  opts.generate = s.sagas;
  opts.saga = "bench";
  opts.meters = meters;
  phase_meter cost;
  {
    actors::engine e{wf, opts};
    f.summary = e.wait([&](const runtime::run_summary& now) { out.update(now); });
  }
  f.peak_rss = peak_rss();
  if (!f.summary.error.empty()) {
    f.error = f.summary.error;
    remove_dir(dir);
    return f;
  }
  auto& r = f.summary;
  auto ended = r.ended();
  f.sagas_per_sec = r.seconds > 0 ? static_cast<double>(ended) / r.seconds : 0;
  f.events_per_sec = r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0;
  f.events_per_batch =
    r.write_batches > 0 ? static_cast<double>(r.events) / static_cast<double>(r.write_batches) : 0;
  f.cost = cost.per_saga(ended);
  // One saga's events as stored, for the raw storage loop to write.
  std::string error;
  if (auto log = storage::event_log::open(storage::log_options::reader(dir), error)) {
    auto cid = runtime::make_correlation_id("bench", (s.sagas + 1) / 2);
    auto st = log->read_raw(cid, 1, UINT64_MAX, [&](std::uint64_t, std::string_view json) {
      f.saga_records.emplace_back(json);
      return true;
    });
    if (!st)
      f.error = st.message();
  } else {
    f.error = error;
  }
  remove_dir(dir);
  char line[200];
  std::snprintf(line, sizeof line, "%s sagas in %.2f s: %.0f sagas/s, %.0f events/s, p99 %.1f ms",
                grouped(ended).c_str(), r.seconds, f.sagas_per_sec, f.events_per_sec,
                r.latency_p99_ms);
  out.end(line);
  return f;
}

metrics_cost_figures metrics_cost(const settings& s, int rounds, reporter& out) {
  metrics_cost_figures f;
  f.rounds = rounds;
  std::vector<double> rate[2], cpu[2];
  for (int round = 0; round < rounds; ++round)
    for (int on = 0; on < 2; ++on) {
      runtime::meter_board board; // a fresh one each run, as a process has
      auto run = closed_loop(s, s.dir + "/metrics-cost", 0, out, on ? &board : nullptr);
      if (!run.error.empty()) {
        f.error = run.error;
        return f;
      }
      rate[on].push_back(run.sagas_per_sec);
      cpu[on].push_back(run.cost.cpu_ms_per_saga);
    }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  f.off_sagas_per_sec = median(rate[0]);
  f.on_sagas_per_sec = median(rate[1]);
  f.off_cpu_ms_per_saga = median(cpu[0]);
  f.on_cpu_ms_per_saga = median(cpu[1]);
  char line[200];
  std::snprintf(line, sizeof line,
                "metrics on/off: %.3f of the sagas/s, %.3f of the CPU per saga (medians of %d runs each)",
                f.rate_ratio(), f.cpu_ratio(), rounds);
  out.end(line);
  return f;
}

fixed_rate_figures fixed_rate(const settings& s, double rate, reporter& out) {
  fixed_rate_figures f;
  f.rate = rate;
  f.sagas = s.sagas;
  auto dir = s.dir + "/fixed-rate";
  remove_dir(dir);
  auto wf = bench_workflow(s, dir, 0, s.in_flight);
  if (!start_logging(wf, f.error) || rate <= 0) {
    if (f.error.empty())
      f.error = "no rate to run at: the closed loop ended no saga";
    return f;
  }
  reset_peak_rss();
  std::mutex m;
  runtime::latency_histogram h;
  std::uint64_t completed = 0;
  std::string refused;
  runtime::run_summary summary;
  clock_type::time_point start;
  phase_meter cost;
  {
    actors::engine e{wf, {}};
    if (!e.ok()) {
      f.error = e.error();
      return f;
    }
    auto gap = std::chrono::duration<double>(1.0 / rate);
    start = clock_type::now();
    for (std::uint64_t i = 0; i < s.sagas; ++i) {
      // Open loop: each saga arrives at its planned time, and its latency
      // counts from then, however late the engine takes it (no
      // coordinated omission).
      auto planned = start + std::chrono::duration_cast<clock_type::duration>(gap * static_cast<double>(i));
      std::this_thread::sleep_until(planned);
      e.start_async("bench", runtime::make_correlation_id("bench", i + 1), R"({"n":1})",
                    [&, planned](const std::string& cid, actors::start_result r,
                                 const std::string& status) {
                      auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  clock_type::now() - planned)
                                  .count();
                      std::lock_guard<std::mutex> lock{m};
                      if (r != actors::start_result::started) {
                        refused = cid;
                        return;
                      }
                      h.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, us)));
                      if (storage::parse_saga_status(status) == storage::saga_status::completed)
                        ++completed;
                    });
      if (i % 2048 == 0)
        out.update(grouped(i) + " of " + grouped(s.sagas) + " sagas sent at "
                   + std::to_string(static_cast<long long>(rate)) + "/s");
    }
    f.achieved_rate = static_cast<double>(s.sagas) / std::max(since(start), 1e-9);
    summary = e.wait([&](const runtime::run_summary& now) { out.update(now); });
  }
  f.seconds = since(start);
  f.cost = cost.per_saga(summary.ended());
  f.peak_rss = peak_rss();
  f.completed = completed;
  f.lat = latency_of(h);
  f.events = summary.events;
  f.write_batches = summary.write_batches;
  remove_dir(dir);
  if (!summary.error.empty())
    f.error = summary.error;
  else if (!refused.empty())
    f.error = "saga " + refused + " was refused";
  char line[200];
  std::snprintf(line, sizeof line, "%s sagas at %.0f/s: p50 %.2f ms, p99 %.2f ms, max %.1f ms",
                grouped(s.sagas).c_str(), rate, f.lat.p50, f.lat.p99, f.lat.max);
  out.end(line);
  return f;
}

// -- recovery -----------------------------------------------------------------

int run_child(const config::workflow& wf, const std::function<int(actors::engine&)>& body) {
  std::string error;
  if (!start_logging(wf, error)) {
    std::fprintf(stderr, "nexus: %s\n", error.c_str());
    return 1;
  }
  actors::engine e{wf, {}};
  if (!e.ok()) {
    std::fprintf(stderr, "nexus: %s\n", e.error().c_str());
    return e.exit_status();
  }
  return body(e);
}

int recovery_child(const settings& s, const std::string& dir) {
  return run_child(bench_workflow(s, dir, 0, s.recovery_sagas), [&](actors::engine& e) {
    // Killed by itself the moment every saga has been started (its first
    // events durable) and half are known to have ended, wherever the others
    // are: nothing later reaches the log.
    auto half = s.recovery_sagas / 2;
    std::atomic<std::uint64_t> started{0}, ended{0};
    auto kill_if_due = [&] {
      auto n = ended.load();
      if (started.load() == s.recovery_sagas && n >= half) {
        std::printf("%llu\n", static_cast<unsigned long long>(n));
        std::fflush(stdout);
        ::kill(::getpid(), SIGKILL);
      }
    };
    for (std::uint64_t i = 1; i <= s.recovery_sagas; ++i)
      e.start_async(
        "bench", runtime::make_correlation_id("bench", i), R"({"n":1})",
        [&](const std::string&, actors::start_result, const std::string&) {
          auto n = ++ended;
          if (n % 1024 == 0) {
            std::printf("%llu\n", static_cast<unsigned long long>(n));
            std::fflush(stdout);
          }
          kill_if_due();
        },
        [&](const std::string&) {
          ++started;
          kill_if_due();
        });
    auto summary = e.wait();
    std::fprintf(stderr, "nexus: the run ended before half its sagas had: %s\n",
                 summary.error.empty() ? "no error" : summary.error.c_str());
    return 1;
  });
}

pid_t spawn_child(const std::string& exe, const std::vector<std::string>& args,
                  const std::string& err_file, int* from_child, std::string& error) {
  int fds[2] = {-1, -1};
  if (from_child != nullptr && ::pipe2(fds, O_CLOEXEC) != 0) {
    error = std::string{"pipe: "} + std::strerror(errno);
    return -1;
  }
  std::vector<std::string> all{exe};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string{"fork: "} + std::strerror(errno);
    if (from_child != nullptr) {
      ::close(fds[0]);
      ::close(fds[1]);
    }
    return -1;
  }
  if (pid == 0) {
    int out = from_child != nullptr ? fds[1] : ::open("/dev/null", O_WRONLY);
    if (out >= 0)
      ::dup2(out, STDOUT_FILENO);
    int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0)
      ::dup2(err, STDERR_FILENO);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  if (from_child != nullptr) {
    ::close(fds[1]);
    *from_child = fds[0];
  }
  return pid;
}

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in{path};
  std::string line;
  std::getline(in, line);
  return line;
}

} // namespace

bool run_killed_child(const std::string& exe, const std::vector<std::string>& args,
                      const std::string& err_file, const std::function<void(const char*)>& on_line,
                      std::string& error) {
  int from_child = -1;
  pid_t pid = spawn_child(exe, args, err_file, &from_child, error);
  if (pid < 0)
    return false;
  if (FILE* in = ::fdopen(from_child, "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, in) != nullptr)
      on_line(line);
    std::fclose(in);
  } else {
    ::close(from_child);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
    return true;
  error = "the child run was not killed mid-way (status "
          + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
  auto why = first_line(err_file);
  if (!why.empty())
    error += ": " + why;
  return false;
}

recovery_figures recovery(const settings& s, const std::string& exe, reporter& out) {
  recovery_figures f;
  f.sagas = s.recovery_sagas;
  auto dir = s.dir + "/recovery";
  auto err_file = s.dir + "/recovery-child.err";
  remove_dir(dir);
  // Shows the child's count of ended sagas until it kills itself.
  bool killed = run_killed_child(
    exe,
    {"bench", "--recovery-child", dir, "--steps", std::to_string(s.steps), "--recovery-sagas",
     std::to_string(s.recovery_sagas), "--durability", std::string{config::to_string(s.durability)},
     "--threads", std::to_string(s.threads)},
    err_file,
    [&](const char* line) {
      f.ended_before_kill = std::strtoull(line, nullptr, 10);
      out.update("child run: " + grouped(f.ended_before_kill) + " of " + grouped(s.recovery_sagas)
                 + " sagas ended");
    },
    f.error);
  if (!killed) {
    remove_dir(dir);
    return f;
  }
  auto wf = bench_workflow(s, dir, 0, s.recovery_sagas);
  if (!start_logging(wf, f.error))
    return f;
  reset_peak_rss();
  auto start = clock_type::now();
  runtime::run_summary summary;
  phase_meter cost;
  {
    actors::engine e{wf, {}};
    f.open_seconds = since(start);
    summary = e.wait([&](const runtime::run_summary& now) { out.update(now); });
  }
  f.seconds = since(start);
  f.peak_rss = peak_rss();
  f.resumed = summary.resumed;
  f.cost = cost.per_saga(summary.resumed); // opening the log and replaying included
  f.completed = summary.completed;
  f.replayed_events = summary.replayed_events;
  f.replay_seconds = summary.replay_seconds;
  auto t = f.open_seconds + f.replay_seconds;
  f.events_per_sec = t > 0 ? static_cast<double>(f.replayed_events) / t : 0;
  if (!summary.error.empty())
    f.error = summary.error;
  remove_dir(dir);
  std::filesystem::remove(err_file);
  char line[200];
  std::snprintf(line, sizeof line,
                "%s sagas resumed, %s events replayed in %.2f s (%.0f events/s), all ended in %.2f s",
                grouped(f.resumed).c_str(), grouped(f.replayed_events).c_str(), t, f.events_per_sec,
                f.seconds);
  out.end(line);
  return f;
}

// -- http: durable starts over HTTP ---------------------------------------------

namespace {

/// User + system CPU seconds process `pid` has used.
double cpu_seconds(pid_t pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{stat}, {}};
  auto close = text.rfind(')'); // the command may hold spaces
  if (close == std::string::npos)
    return 0;
  std::istringstream fields{text.substr(close + 2)};
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

} // namespace

std::int64_t not_ended(const std::string& stats) {
  simdjson::dom::parser parser;
  std::int64_t n = -1;
  if (parser.parse(stats)["engine"]["not_ended"].get_int64().get(n) != simdjson::SUCCESS)
    return -1;
  return n;
}

latency latency_of(const std::vector<double>& ms) {
  runtime::latency_histogram h;
  for (auto m : ms)
    h.record(static_cast<std::uint64_t>(m * 1e3));
  return latency_of(h);
}

http_figures http(const settings& s, const std::string& exe, reporter& out) {
  http_figures f;
  f.connections = 64;
  auto dir = s.dir + "/http";
  remove_dir(dir);
  std::filesystem::create_directories(dir);
  auto wf_path = dir + "/workflow.json";
  {
    std::ofstream wf{wf_path};
    wf << bench_workflow_text(s, dir + "/data", 0, s.in_flight);
  }
  int fds[2];
  if (::pipe(fds) != 0) {
    f.error = std::string{"pipe: "} + std::strerror(errno);
    return f;
  }
  std::vector<std::string> args{exe, "serve", wf_path, "--http", "127.0.0.1:0"};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0)
      ::dup2(null, STDOUT_FILENO);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    f.error = std::string{"fork: "} + std::strerror(errno);
    return f;
  }
  std::uint16_t port = 0;
  FILE* from = ::fdopen(fds[0], "r");
  char line[256];
  while (from != nullptr && std::fgets(line, sizeof line, from) != nullptr) {
    if (auto at = std::strstr(line, "http listening on 127.0.0.1:")) {
      port = static_cast<std::uint16_t>(std::atoi(at + std::strlen("http listening on 127.0.0.1:")));
      break;
    }
  }
  auto stop = [&] {
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (from != nullptr)
      std::fclose(from);
  };
  if (port == 0) {
    f.error = "the nexus serve child did not say where it listens";
    stop();
    return f;
  }
  http_load_spec spec;
  spec.port = port;
  spec.connections = f.connections;
  spec.requests = s.sagas;
  spec.prefix = "closed";
  out.update(grouped(static_cast<double>(s.sagas)) + " starts, closed loop");
  auto cpu_before = cpu_seconds(pid);
  auto closed = run_http_load(spec);
  auto cpu = cpu_seconds(pid) - cpu_before;
  f.starts = closed.created;
  f.starts_per_sec = closed.seconds > 0 ? static_cast<double>(closed.created) / closed.seconds : 0;
  f.closed = latency_of(closed.latency_ms);
  f.server_cpu_ms_per_start = closed.created > 0 ? cpu * 1e3 / static_cast<double>(closed.created) : 0;
  // The sagas those starts began run on: the fixed rate starts once they
  // have ended (polled, as a benchmark may), so that it measures itself.
  for (int i = 0; i < 1200; ++i) {
    if (not_ended(http_get("127.0.0.1", port, "/v1/stats")) == 0)
      break;
    out.update("waiting for the closed loop's sagas to end");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (closed.error.empty() && closed.other == 0 && f.starts_per_sec > 0) {
    f.rate = f.starts_per_sec * s.rate_fraction;
    spec.rate = f.rate;
    spec.requests = s.sagas / 2;
    spec.prefix = "fixed";
    out.update(grouped(f.rate) + " starts/s, fixed rate");
    auto fixed = run_http_load(spec);
    f.achieved_rate = fixed.seconds > 0 ? static_cast<double>(fixed.created) / fixed.seconds : 0;
    f.fixed = latency_of(fixed.latency_ms);
    if (!fixed.error.empty() || fixed.other > 0)
      f.error = fixed.error.empty() ? std::to_string(fixed.other) + " starts not answered 201"
                                    : fixed.error;
  } else {
    f.error = closed.error.empty() ? std::to_string(closed.other) + " starts not answered 201"
                                   : closed.error;
  }
  stop();
  remove_dir(dir);
  char text[200];
  std::snprintf(text, sizeof text, "%s starts/s closed loop (p99 %.2f ms); p99 %.2f ms at %s/s",
                grouped(f.starts_per_sec).c_str(), f.closed.p99, f.fixed.p99,
                grouped(f.rate).c_str());
  out.end(text);
  return f;
}

} // namespace nexus::bench
