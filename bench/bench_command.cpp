// nexus bench: Nexus against the raw limits of the machine it runs on, in
// one run (see bench/README.md).
#include <algorithm>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench/raw_messaging.hpp"
#include "bench/phase_support.hpp"
#include "bench/bench_phases.hpp"
#include "bench/bench.hpp"
#include "app/terminal.hpp"
#include "config/json_writer.hpp"
#include "runtime/input_source.hpp"
#include "app/versions.hpp"
#include "bench/raw_sync.hpp"
#include "bench/raw_writes.hpp"

namespace nexus::bench {

using app::colour;
using app::paint;
using app::print_table;
using app::stdout_colours;

const std::vector<std::string>& bench_phases() {
  static const std::vector<std::string> all{"memory",        "closed-loop", "raw-storage",
                                            "raw-messaging", "raw-sync",    "fixed-rate",
                                            "failure-mix",   "recovery",    "http",
                                            "waiting",       "metrics",     "replicated"};
  return all;
}

namespace {

using bench::grouped;
using bench::latency;

/// The targets of a 2-core machine at durability sync (bench/README.md).
constexpr double target_storage_ratio = 0.5;
constexpr double target_messaging_ratio = 0.8;
constexpr double target_sagas_per_sec = 20000;
constexpr double target_cpu_ms_per_saga = 0.05; // 3 steps, durability sync
constexpr double target_p99_ms = 10;
constexpr double target_bytes_per_saga = 1024;
constexpr double target_recovery_seconds = 0.3; // open + replay, 100,000 sagas killed
constexpr double target_http_starts_per_sec = 10000;
constexpr double target_http_p99_ms = 20;
constexpr double target_waiting_rss_mib = 300;
constexpr double target_waiting_first_start_seconds = 2;
constexpr double target_signalled_per_sec = 10000;
constexpr double target_timers_seconds = 5;
constexpr double target_metrics_cost_ratio = 0.97; // sagas/s with the metrics' counting on
constexpr int metrics_cost_rounds = 5;
constexpr double target_replicated_ratio = 0.5; // sagas/s, leader + follower over one node

std::string filesystem_of(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0)
    return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794C7630: return "overlayfs";
    case 0x2FC12FC1: return "zfs";
    default: {
      char hex[32];
      std::snprintf(hex, sizeof hex, "0x%lx", static_cast<unsigned long>(fs.f_type));
      return hex;
    }
  }
}

std::string kernel() {
  struct utsname u {};
  if (::uname(&u) != 0)
    return "unknown";
  return std::string{u.sysname} + " " + u.release + " " + u.machine;
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}


std::string mib(std::uint64_t bytes) {
  return fixed(static_cast<double>(bytes) / (1 << 20), 1) + " MiB";
}

std::string latency_text(double p50, double p99, double max) {
  return fixed(p50, 2) + " / " + fixed(p99, 2) + " / " + fixed(max, 1) + " ms";
}


struct results {
  bench::settings s;
  std::vector<std::string> phases; ///< Those to run, in bench_phases()' order.
  double rate = 0;                 ///< --rate: the fixed-rate run's; 0: from the closed loop.
  bool has(const std::string& phase) const {
    return std::find(phases.begin(), phases.end(), phase) != phases.end();
  }
  std::uint32_t threads = 0; ///< As run: s.threads, or the cores.
  std::string dir, filesystem;
  bench::memory_figures memory;
  bench::run_figures closed;
  raw_write_result raw_storage;
  std::uint32_t raw_batch = 0;
  double record_bytes = 0;
  raw_messaging_result raw_messaging;
  double raw_storage_cpu_ms_per_saga = 0, raw_messaging_cpu_ms_per_saga = 0;
  raw_sync_spec raw_sync_setup;
  raw_sync_result raw_sync;
  bench::fixed_rate_figures fixed;
  bench::run_figures failures;
  bench::recovery_figures recovery;
  bench::http_figures http;
  bench::waiting_figures waiting;
  bench::metrics_cost_figures metrics;
  bench::replicated_figures replicated;

  double raw_records_per_sec() const {
    return raw_storage.seconds > 0 ? static_cast<double>(raw_storage.records) / raw_storage.seconds : 0;
  }
  double raw_messages_per_sec() const {
    return raw_messaging.seconds > 0
             ? static_cast<double>(raw_messaging.messages) / raw_messaging.seconds
             : 0;
  }
  double storage_ratio() const {
    auto raw = raw_records_per_sec();
    return raw > 0 ? closed.events_per_sec / raw : 0;
  }
  /// Both runs send messages_per_saga() a saga: their sagas/s compare.
  double messaging_ratio() const {
    auto raw = raw_messaging.seconds > 0
                 ? static_cast<double>(raw_messaging.sagas) / raw_messaging.seconds
                 : 0;
    return raw > 0 ? closed.sagas_per_sec / raw : 0;
  }
  std::uint64_t peak_rss() const {
    return std::max({memory.peak_rss, closed.peak_rss, fixed.peak_rss, failures.peak_rss,
                     recovery.peak_rss});
  }
};

std::string latency_json(double p50, double p90, double p99, double max, const double* p999 = nullptr) {
  std::string out;
  config::json_object_writer w{out};
  w.field("p50", p50).field("p90", p90).field("p99", p99);
  if (p999 != nullptr)
    w.field("p999", *p999);
  w.field("max", max);
  w.finish();
  return out;
}

std::string run_json(const bench::run_figures& f) {
  auto& r = f.summary;
  std::string out;
  config::json_object_writer w{out};
  w.field("sagas", r.ended())
    .field("completed", r.completed)
    .field("compensated", r.compensated)
    .field("failed", r.failed)
    .field("events", r.events)
    .field("write_batches", r.write_batches)
    .field("events_per_batch", f.events_per_batch)
    .field("seconds", r.seconds)
    .field("sagas_per_sec", f.sagas_per_sec)
    .field("events_per_sec", f.events_per_sec)
    .raw_field("latency_ms", latency_json(r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms,
                                          r.latency_max_ms, &r.latency_p999_ms))
    .field("cpu_ms_per_saga", f.cost.cpu_ms_per_saga)
    .field("messages_per_saga", f.cost.messages_per_saga)
    .field("peak_rss_bytes", f.peak_rss);
  w.finish();
  return out;
}

std::string target_json(double target, double value, bool met) {
  std::string out;
  config::json_object_writer w{out};
  w.field("target", target).field("value", value).field("met", met);
  w.finish();
  return out;
}

struct target_row {
  const char* name;
  double target;
  double value;
  bool met;
  std::string text; ///< The target as people read it.
};

double waiting_mib(const results& r) {
  return static_cast<double>(r.waiting.rss_bytes) / (1 << 20);
}

std::vector<target_row> targets(const results& r) {
  std::vector<target_row> all{
    {"storage_ratio", target_storage_ratio, r.storage_ratio(),
     r.storage_ratio() >= target_storage_ratio, ">= 0.50"},
    {"messaging_ratio", target_messaging_ratio, r.messaging_ratio(),
     r.messaging_ratio() >= target_messaging_ratio, ">= 0.80"},
    {"sagas_per_sec", target_sagas_per_sec, r.closed.sagas_per_sec,
     r.closed.sagas_per_sec >= target_sagas_per_sec, ">= 20,000 (3 steps, sync)"},
    {"cpu_ms_per_saga", target_cpu_ms_per_saga, r.closed.cost.cpu_ms_per_saga,
     r.closed.cost.cpu_ms_per_saga <= target_cpu_ms_per_saga && r.closed.cost.cpu_ms_per_saga > 0,
     "<= 0.05 (closed loop, 3 steps)"},
    {"p99_ms_at_fixed_rate", target_p99_ms, r.fixed.lat.p99, r.fixed.lat.p99 < target_p99_ms,
     "< 10 ms at half the closed loop's rate"},
    {"bytes_per_saga", target_bytes_per_saga, r.memory.bytes_per_saga,
     r.memory.bytes_per_saga <= target_bytes_per_saga, "<= 1,024"},
    {"recovery_seconds", target_recovery_seconds,
     r.recovery.open_seconds + r.recovery.replay_seconds,
     r.recovery.open_seconds + r.recovery.replay_seconds < target_recovery_seconds,
     "< 0.3 s to open and rebuild"},
    {"http_starts_per_sec", target_http_starts_per_sec, r.http.starts_per_sec,
     r.http.starts_per_sec >= target_http_starts_per_sec, ">= 10,000 (durable, keep-alive)"},
    {"http_p99_ms_at_half_rate", target_http_p99_ms, r.http.fixed.p99,
     r.http.fixed.p99 < target_http_p99_ms && r.http.fixed.p99 > 0, "< 20 ms at half that rate"},
    {"waiting_rss_mib", target_waiting_rss_mib, waiting_mib(r),
     waiting_mib(r) < target_waiting_rss_mib && r.waiting.parked >= 1000000,
     "< 300 MiB for 1,000,000 parked"},
    {"waiting_restart_first_start_s", target_waiting_first_start_seconds,
     r.waiting.first_start_seconds, r.waiting.first_start_seconds < target_waiting_first_start_seconds,
     "< 2 s to a new start"},
    {"signalled_sagas_per_sec", target_signalled_per_sec, r.waiting.signalled_per_sec,
     r.waiting.signalled_per_sec >= target_signalled_per_sec, ">= 10,000"},
    {"same_second_timers_fire_s", target_timers_seconds, r.waiting.timers_fire_seconds,
     r.waiting.timers_fire_seconds < target_timers_seconds && r.waiting.sleepers_parked
       && r.waiting.timers_fire_seconds > 0,
     "< 5 s for 100,000 due at once"},
    {"metrics_cost_ratio", target_metrics_cost_ratio, r.metrics.rate_ratio(),
     r.metrics.rate_ratio() >= target_metrics_cost_ratio, ">= 0.97 (on over off, sagas/s)"},
    {"replicated_ratio", target_replicated_ratio, r.replicated.ratio(),
     r.replicated.ratio() >= target_replicated_ratio, ">= 0.50 (leader + follower over one node)"},
  };
  // Each target, with the phases it needs.
  const std::vector<std::vector<const char*>> needs{{"closed-loop", "raw-storage"},
                                                    {"closed-loop", "raw-messaging"},
                                                    {"closed-loop"},
                                                    {"closed-loop"},
                                                    {"fixed-rate"},
                                                    {"memory"},
                                                    {"recovery"},
                                                    {"http"},
                                                    {"http"},
                                                    {"waiting"},
                                                    {"waiting"},
                                                    {"waiting"},
                                                    {"waiting"},
                                                    {"metrics"},
                                                    {"replicated"}};
  std::vector<target_row> out;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (std::all_of(needs[i].begin(), needs[i].end(), [&](const char* p) { return r.has(p); }))
      out.push_back(all[i]);
  return out;
}

std::string object(const std::function<void(config::json_object_writer&)>& fill) {
  std::string out;
  config::json_object_writer w{out};
  fill(w);
  w.finish();
  return out;
}

std::string to_json(const results& r) {
  std::string out;
  config::json_object_writer w{out};
  w.field("nexus_version", app::nexus_version)
    .raw_field("machine", object([&](config::json_object_writer& m) {
      m.field("cores", static_cast<std::uint64_t>(std::thread::hardware_concurrency()))
        .field("kernel", kernel())
        .field("dir", r.dir)
        .field("filesystem", r.filesystem);
    }))
    .raw_field("settings", object([&](config::json_object_writer& x) {
      std::string phases = "[";
      for (auto& p : r.phases) {
        phases += phases.size() > 1 ? "," : "";
        config::append_json_string(phases, p);
      }
      x.field("steps", static_cast<std::uint64_t>(r.s.steps))
        .field("sagas", r.s.sagas)
        .field("in_flight", r.s.in_flight)
        .field("durability", config::to_string(r.s.durability))
        .field("threads", static_cast<std::uint64_t>(r.threads))
        .field("recovery_sagas", r.s.recovery_sagas)
        .field("memory_sagas", r.s.memory_sagas)
        .field("waiting_sagas", r.s.waiting_sagas)
        .field("fail_rate", r.s.fail_rate)
        .field("rate_fraction", r.s.rate_fraction)
        .raw_field("phases", phases + "]");
    }));
  if (r.has("raw-storage"))
    w.raw_field("raw_storage", object([&](config::json_object_writer& x) {
      x.field("records", r.raw_storage.records)
        .field("record_bytes", r.record_bytes)
        .field("batch", static_cast<std::uint64_t>(r.raw_batch))
        .field("seconds", r.raw_storage.seconds)
        .field("records_per_sec", r.raw_records_per_sec())
        .field("cpu_ms_per_saga", r.raw_storage_cpu_ms_per_saga);
    }));
  if (r.has("raw-messaging"))
    w.raw_field("raw_messaging", object([&](config::json_object_writer& x) {
      x.field("messages", r.raw_messaging.messages)
        .field("messages_per_saga", messages_per_saga(r.s.steps))
        .field("seconds", r.raw_messaging.seconds)
        .field("messages_per_sec", r.raw_messages_per_sec())
        .field("sagas_per_sec", r.raw_messaging.seconds > 0
                                  ? static_cast<double>(r.raw_messaging.sagas) / r.raw_messaging.seconds
                                  : 0)
        .field("cpu_ms_per_saga", r.raw_messaging_cpu_ms_per_saga);
    }));
  if (r.has("raw-sync"))
    w.raw_field("raw_sync", object([&](config::json_object_writer& x) {
      auto half = [](const sync_latencies& l) {
        return object([&](config::json_object_writer& y) {
          y.field("syncs", l.syncs)
            .raw_field("latency_ms", latency_json(l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms, &l.p999_ms))
            .field("stalled_share", l.stalled_share);
        });
      };
      x.field("write_bytes", static_cast<std::uint64_t>(r.raw_sync_setup.write_bytes))
        .field("flush_file_bytes", r.raw_sync_setup.flush_bytes)
        .field("flush_every_seconds", r.raw_sync_setup.flush_every_seconds)
        .field("seconds_each", r.raw_sync_setup.seconds)
        .raw_field("alone", half(r.raw_sync.alone))
        .raw_field("beside_flush", half(r.raw_sync.beside_flush))
        .field("flushed_bytes", r.raw_sync.flushed_bytes);
    }));
  if (r.has("closed-loop"))
    w.raw_field("closed_loop", run_json(r.closed));
  if (r.has("fixed-rate"))
    w.raw_field("fixed_rate", object([&](config::json_object_writer& x) {
      auto& f = r.fixed;
      std::string dist = "[";
      for (auto& [q, ms] : f.lat.distribution)
        dist += (dist.size() > 1 ? ",[" : "[") + fixed(q, 4) + "," + fixed(ms, 3) + "]";
      x.field("rate", f.rate)
        .field("achieved_rate", f.achieved_rate)
        .field("sagas", f.sagas)
        .field("completed", f.completed)
        .field("seconds", f.seconds)
        .field("events", f.events)
        .field("write_batches", f.write_batches)
        .raw_field("latency_ms", latency_json(f.lat.p50, f.lat.p90, f.lat.p99, f.lat.max, &f.lat.p999))
        .raw_field("latency_distribution", dist + "]")
        .field("cpu_ms_per_saga", f.cost.cpu_ms_per_saga)
        .field("messages_per_saga", f.cost.messages_per_saga)
        .field("peak_rss_bytes", f.peak_rss);
    }));
  if (r.has("failure-mix"))
    w.raw_field("failure_mix", run_json(r.failures));
  if (r.has("metrics"))
    w.raw_field("metrics_cost", object([&](config::json_object_writer& x) {
      auto& f = r.metrics;
      x.field("rounds", f.rounds)
        .field("off_sagas_per_sec", f.off_sagas_per_sec)
        .field("on_sagas_per_sec", f.on_sagas_per_sec)
        .field("off_cpu_ms_per_saga", f.off_cpu_ms_per_saga)
        .field("on_cpu_ms_per_saga", f.on_cpu_ms_per_saga)
        .field("rate_ratio", f.rate_ratio())
        .field("cpu_ratio", f.cpu_ratio());
    }));
  if (r.has("recovery"))
    w.raw_field("recovery", object([&](config::json_object_writer& x) {
      auto& f = r.recovery;
      x.field("sagas", f.sagas)
        .field("ended_before_kill", f.ended_before_kill)
        .field("resumed", f.resumed)
        .field("completed", f.completed)
        .field("replayed_events", f.replayed_events)
        .field("open_seconds", f.open_seconds)
        .field("replay_seconds", f.replay_seconds)
        .field("events_per_sec", f.events_per_sec)
        .field("seconds", f.seconds)
        .field("cpu_ms_per_saga", f.cost.cpu_ms_per_saga)
        .field("messages_per_saga", f.cost.messages_per_saga)
        .field("peak_rss_bytes", f.peak_rss);
    }));
  if (r.has("memory"))
    w.raw_field("memory", object([&](config::json_object_writer& x) {
      auto& f = r.memory;
      x.field("sagas", f.sagas)
        .field("bytes_per_saga", f.bytes_per_saga)
        .field("bytes_per_saga_with_log", f.bytes_per_saga_with_log)
        .field("heap_bytes_per_saga", f.heap_bytes_per_saga)
        .field("actor_bytes", f.actor_bytes)
        .field("log_bytes", f.log_bytes)
        .field("peak_rss_bytes", f.peak_rss);
    }));
  if (r.has("http"))
    w.raw_field("http", object([&](config::json_object_writer& x) {
      auto& f = r.http;
      x.field("connections", static_cast<std::uint64_t>(f.connections))
        .field("starts", f.starts)
        .field("starts_per_sec", f.starts_per_sec)
        .raw_field("latency_ms", latency_json(f.closed.p50, f.closed.p90, f.closed.p99, f.closed.max,
                                              &f.closed.p999))
        .field("server_cpu_ms_per_start", f.server_cpu_ms_per_start)
        .field("fixed_rate", f.rate)
        .field("fixed_achieved_rate", f.achieved_rate)
        .raw_field("fixed_latency_ms", latency_json(f.fixed.p50, f.fixed.p90, f.fixed.p99,
                                                    f.fixed.max, &f.fixed.p999));
      if (r.has("closed-loop") && r.closed.sagas_per_sec > 0)
        x.field("ratio_to_closed_loop", f.starts_per_sec / r.closed.sagas_per_sec);
    }));
  if (r.has("replicated"))
    w.raw_field("replicated", object([&](config::json_object_writer& x) {
      auto& f = r.replicated;
      auto run = [&](const bench::replicated_run& u) {
        return object([&](config::json_object_writer& y) {
          y.field("starts", u.starts)
            .field("sagas_per_sec", u.sagas_per_sec)
            .raw_field("start_latency_ms", latency_json(u.start.p50, u.start.p90, u.start.p99,
                                                        u.start.max, &u.start.p999));
        });
      };
      x.field("sagas", f.sagas)
        .raw_field("single", run(f.single))
        .raw_field("leader_and_follower", run(f.replicated))
        .field("ratio", f.ratio());
    }));
  if (r.has("waiting"))
    w.raw_field("waiting", object([&](config::json_object_writer& x) {
      auto& f = r.waiting;
      x.field("sagas", f.sagas)
        .field("parked", f.parked)
        .field("rss_bytes", f.rss_bytes)
        .field("log_bytes", f.log_bytes)
        .field("start_seconds", f.start_seconds)
        .field("first_start_seconds", f.first_start_seconds)
        .field("parked_after_restart", f.parked_after_restart)
        .field("signalled", f.signalled)
        .field("signal_seconds", f.signal_seconds)
        .field("signalled_per_sec", f.signalled_per_sec)
        .field("timers", f.timers)
        .field("sleepers_parked", f.sleepers_parked)
        .field("timers_fire_seconds", f.timers_fire_seconds)
        .field("timers_seconds", f.timers_seconds);
    }));
  w.field("peak_rss_bytes", r.peak_rss());
  if (r.has("closed-loop") && r.has("raw-storage"))
    w.field("storage_ratio", r.storage_ratio());
  if (r.has("closed-loop") && r.has("raw-messaging"))
    w.field("messaging_ratio", r.messaging_ratio());
  w.raw_field("targets", object([&](config::json_object_writer& x) {
    for (auto& t : targets(r))
      x.raw_field(t.name, target_json(t.target, t.value, t.met));
  }));
  w.finish();
  return out;
}

void print_report(const results& r) {
  bool colours = stdout_colours();
  auto& c = r.closed.summary;
  auto& fm = r.failures.summary;
  auto n = [](std::uint64_t x) { return grouped(static_cast<double>(x)); };
  std::cout << "nexus bench: " << r.s.steps << "-step sagas, durability "
            << config::to_string(r.s.durability) << ", " << r.threads << " threads, at most "
            << n(r.s.in_flight) << " in flight; data in " << r.dir << " (" << r.filesystem
            << ")\n\n";
  std::vector<std::vector<std::string>> rows{
    {"run", "what", "rate", "latency p50 / p99 / max", "peak RSS"}};
  if (r.has("raw-storage"))
    rows.push_back({"raw storage",
                    n(r.raw_storage.records) + " records of " + grouped(r.record_bytes) + " B, "
                      + grouped(r.raw_batch) + " a batch",
                    grouped(r.raw_records_per_sec()) + " records/s", "", ""});
  if (r.has("raw-messaging"))
    rows.push_back({"raw messaging",
                    n(r.raw_messaging.messages) + " messages, "
                      + std::to_string(messages_per_saga(r.s.steps)) + " a saga",
                    grouped(r.raw_messages_per_sec()) + " messages/s", "", ""});
  if (r.has("raw-sync")) {
    auto& a = r.raw_sync.alone;
    auto& b = r.raw_sync.beside_flush;
    auto kib = grouped(static_cast<double>(r.raw_sync_setup.write_bytes) / 1024);
    rows.push_back({"raw sync", kib + " KiB appends, each fdatasync'd",
                    grouped(static_cast<double>(a.syncs) / r.raw_sync_setup.seconds) + " syncs/s",
                    latency_text(a.p50_ms, a.p99_ms, a.max_ms), ""});
    rows.push_back({"raw sync, flushing",
                    "the same, a " + mib(r.raw_sync_setup.flush_bytes) + " file written and synced every "
                      + fixed(r.raw_sync_setup.flush_every_seconds, 0) + " s; "
                      + fixed(100 * b.stalled_share, 1) + " % of the time in syncs > 10 ms",
                    grouped(static_cast<double>(b.syncs) / r.raw_sync_setup.seconds) + " syncs/s",
                    latency_text(b.p50_ms, b.p99_ms, b.max_ms), ""});
  }
  if (r.has("closed-loop"))
    rows.push_back({"nexus closed loop", n(c.completed) + " sagas, " + n(c.events) + " events, "
                                           + fixed(r.closed.cost.cpu_ms_per_saga, 3) + " CPU-ms and "
                                           + fixed(r.closed.cost.messages_per_saga, 1)
                                           + " messages a saga",
                    grouped(r.closed.sagas_per_sec) + " sagas/s, "
                      + grouped(r.closed.events_per_sec) + " events/s",
                    latency_text(c.latency_p50_ms, c.latency_p99_ms, c.latency_max_ms),
                    mib(r.closed.peak_rss)});
  if (r.has("fixed-rate"))
    rows.push_back({"nexus fixed rate", n(r.fixed.sagas) + " sagas at " + grouped(r.fixed.rate) + "/s",
                    grouped(r.fixed.achieved_rate) + " sagas/s sent",
                    latency_text(r.fixed.lat.p50, r.fixed.lat.p99, r.fixed.lat.max),
                    mib(r.fixed.peak_rss)});
  if (r.has("http"))
    rows.push_back({"http starts", n(r.http.starts) + " durable starts on "
                                     + std::to_string(r.http.connections) + " connections",
                    grouped(r.http.starts_per_sec) + " starts/s ("
                      + fixed(r.http.server_cpu_ms_per_start, 3) + " server CPU-ms each)",
                    latency_text(r.http.closed.p50, r.http.closed.p99, r.http.closed.max), ""});
  if (r.has("http") && r.http.rate > 0)
    rows.push_back({"http fixed rate", "at " + grouped(r.http.rate) + "/s",
                    grouped(r.http.achieved_rate) + " starts/s answered",
                    latency_text(r.http.fixed.p50, r.http.fixed.p99, r.http.fixed.max), ""});
  if (r.has("replicated")) {
    rows.push_back({"one node (http)", n(r.replicated.single.starts) + " sagas started over HTTP",
                    grouped(r.replicated.single.sagas_per_sec) + " sagas/s",
                    latency_text(r.replicated.single.start.p50, r.replicated.single.start.p99,
                                 r.replicated.single.start.max), ""});
    rows.push_back({"leader + follower", n(r.replicated.replicated.starts) + " the same, replicated",
                    grouped(r.replicated.replicated.sagas_per_sec) + " sagas/s ("
                      + fixed(r.replicated.ratio(), 2) + " of one node)",
                    latency_text(r.replicated.replicated.start.p50,
                                 r.replicated.replicated.start.p99,
                                 r.replicated.replicated.start.max), ""});
  }
  if (r.has("failure-mix"))
    rows.push_back({"failure mix", n(fm.completed) + " completed, " + n(fm.compensated) + " compensated",
                    grouped(r.failures.sagas_per_sec) + " sagas/s, "
                      + grouped(r.failures.events_per_sec) + " events/s",
                    latency_text(fm.latency_p50_ms, fm.latency_p99_ms, fm.latency_max_ms),
                    mib(r.failures.peak_rss)});
  if (r.has("recovery"))
    rows.push_back({"recovery",
                    n(r.recovery.resumed) + " sagas resumed, " + n(r.recovery.replayed_events)
                      + " events replayed",
                    grouped(r.recovery.events_per_sec) + " events/s; all ended in "
                      + fixed(r.recovery.seconds, 2) + " s",
                    "", mib(r.recovery.peak_rss)});
  if (r.has("memory"))
    rows.push_back({"memory", n(r.memory.sagas) + " sagas waiting on a step",
                    grouped(r.memory.bytes_per_saga) + " B a saga ("
                      + grouped(r.memory.bytes_per_saga_with_log) + " with the log's buffers; its actor "
                      + grouped(static_cast<double>(r.memory.actor_bytes)) + ")",
                    "", mib(r.memory.peak_rss)});
  if (r.has("waiting")) {
    auto& f = r.waiting;
    rows.push_back({"waiting", n(f.parked) + " sagas parked on a signal",
                    "restart takes a saga in " + fixed(f.first_start_seconds, 2) + " s", "",
                    mib(f.rss_bytes)});
    rows.push_back({"signalled", n(f.signalled) + " of them signalled",
                    grouped(f.signalled_per_sec) + " sagas/s completed", "", ""});
    rows.push_back({"timers", n(f.timers) + " sleepers due in one second",
                    "all woke in " + fixed(f.timers_fire_seconds, 2) + " s, done in "
                      + fixed(f.timers_seconds, 2) + " s", "", ""});
  }
  if (r.has("metrics"))
    rows.push_back({"metrics cost", "closed loop with the metrics' counting on, off",
                    grouped(r.metrics.on_sagas_per_sec) + " / " + grouped(r.metrics.off_sagas_per_sec)
                      + " sagas/s; " + fixed(r.metrics.on_cpu_ms_per_saga, 3) + " / "
                      + fixed(r.metrics.off_cpu_ms_per_saga, 3) + " CPU-ms a saga",
                    "", ""});
  print_table(std::cout, rows, [](std::size_t, std::size_t) { return colour::none; }, colours);
  std::cout << '\n';
  if (r.has("closed-loop") && r.has("raw-storage"))
    std::cout << "storage_ratio   " << fixed(r.storage_ratio(), 2)
              << "  (Nexus events/s over raw storage records/s)\n";
  if (r.has("closed-loop") && r.has("raw-messaging"))
    std::cout << "messaging_ratio " << fixed(r.messaging_ratio(), 2)
              << "  (Nexus sagas/s over raw messaging sagas/s)\n";
  auto goals = targets(r);
  if (goals.empty())
    return;
  std::vector<std::vector<std::string>> t{{"target", "value", "wanted", ""}};
  for (auto& x : goals)
    t.push_back({x.name, x.value >= 100 ? grouped(x.value) : fixed(x.value, 2), x.text,
                 x.met ? "met" : "missed"});
  std::cout << '\n';
  print_table(std::cout, t,
              [&t](std::size_t row, std::size_t column) {
                if (column != 3)
                  return colour::none;
                return t[row][3] == "met" ? colour::green : colour::red;
              },
              colours);
}

/// Runs the phases asked for; false, with `error` naming the phase, if one
/// failed.
bool run_phases(results& r, const std::string& exe, bool progress, std::string& error) {
  auto& s = r.s;
  bench::reporter out{progress, static_cast<int>(r.phases.size())};
  auto failed = [&](const char* phase, const std::string& why) {
    error = std::string{phase} + ": " + why;
    return false;
  };
  // Memory first: the heap has not grown yet, so its growth is the sagas'.
  if (r.has("memory")) {
    out.begin("memory");
    r.memory = bench::memory(s, out);
    if (!r.memory.error.empty())
      return failed("memory", r.memory.error);
  }
  if (r.has("closed-loop")) {
    out.begin("nexus closed loop");
    r.closed = bench::closed_loop(s, s.dir + "/closed-loop", 0, out);
    if (!r.closed.error.empty())
      return failed("closed loop", r.closed.error);
  }
  if (r.has("raw-storage")) {
    // The records the closed loop wrote, in batches of its mean size.
    out.begin("raw storage");
    raw_write_spec spec;
    spec.dir = s.dir + "/raw-storage";
    spec.durability = s.durability;
    spec.sagas = s.sagas;
    spec.records = r.closed.saga_records;
    spec.cid_of = [](std::uint64_t i) { return runtime::make_correlation_id("bench", i); };
    r.raw_batch =
      std::max<std::uint32_t>(1, static_cast<std::uint32_t>(r.closed.events_per_batch + 0.5));
    spec.batch = r.raw_batch;
    auto total = static_cast<double>(spec.sagas * spec.records.size());
    bench::phase_meter cost;
    r.raw_storage = raw_write_loop(spec, [&](std::uint64_t done) {
      out.update(grouped(static_cast<double>(done)) + " of " + grouped(total) + " records");
    });
    // Per saga's worth of records: what writing a saga's events alone costs.
    r.raw_storage_cpu_ms_per_saga = cost.per_saga(spec.sagas).cpu_ms_per_saga;
    if (!r.raw_storage.error.empty())
      return failed("raw storage", r.raw_storage.error);
    std::uint64_t value_bytes = 0;
    for (auto& v : spec.records)
      value_bytes += v.size();
    r.record_bytes = spec.records.empty() ? 0
                                          : static_cast<double>(value_bytes)
                                              / static_cast<double>(spec.records.size());
    out.end(grouped(r.raw_records_per_sec()) + " records/s");
  }
  if (r.has("raw-messaging")) {
    out.begin("raw messaging");
    raw_messaging_spec m;
    m.threads = s.threads;
    m.sagas = s.sagas;
    m.steps = s.steps;
    m.in_flight = s.in_flight;
    bench::phase_meter cost;
    r.raw_messaging = run_raw_messaging(m, [&](std::uint64_t done) {
      out.update(grouped(static_cast<double>(done)) + " of "
                 + grouped(static_cast<double>(s.sagas)) + " sagas");
    });
    r.raw_messaging_cpu_ms_per_saga = cost.per_saga(r.raw_messaging.sagas).cpu_ms_per_saga;
    out.end(grouped(r.raw_messages_per_sec()) + " messages/s");
  }
  if (r.has("raw-sync")) {
    out.begin("raw sync");
    r.raw_sync_setup.dir = s.dir + "/raw-sync";
    r.raw_sync = raw_sync_loop(r.raw_sync_setup, [&](const char* half) { out.update(half); });
    if (!r.raw_sync.error.empty())
      return failed("raw sync", r.raw_sync.error);
    out.end("p99 " + fixed(r.raw_sync.alone.p99_ms, 2) + " ms alone, "
            + fixed(r.raw_sync.beside_flush.p99_ms, 2) + " ms beside a flush");
  }
  if (r.has("fixed-rate")) {
    out.begin("nexus fixed rate");
    auto rate = r.rate > 0 ? r.rate : r.closed.sagas_per_sec * s.rate_fraction;
    r.fixed = bench::fixed_rate(s, rate, out);
    if (!r.fixed.error.empty())
      return failed("fixed rate", r.fixed.error);
  }
  if (r.has("failure-mix")) {
    out.begin("failure mix");
    r.failures = bench::closed_loop(s, s.dir + "/failure-mix", s.fail_rate, out);
    if (!r.failures.error.empty())
      return failed("failure mix", r.failures.error);
  }
  if (r.has("recovery")) {
    out.begin("recovery");
    r.recovery = bench::recovery(s, exe, out);
    if (!r.recovery.error.empty())
      return failed("recovery", r.recovery.error);
  }
  if (r.has("http")) {
    out.begin("http starts");
    r.http = bench::http(s, exe, out);
    if (!r.http.error.empty())
      return failed("http", r.http.error);
  }
  if (r.has("waiting")) {
    out.begin("waiting");
    r.waiting = bench::waiting(s, exe, out);
    if (!r.waiting.error.empty())
      return failed("waiting", r.waiting.error);
  }
  if (r.has("metrics")) {
    out.begin("metrics cost");
    r.metrics = bench::metrics_cost(s, metrics_cost_rounds, out);
    if (!r.metrics.error.empty())
      return failed("metrics", r.metrics.error);
  }
  if (r.has("replicated")) {
    out.begin("replicated");
    r.replicated = bench::replicated(s, exe, out);
    if (!r.replicated.error.empty())
      return failed("replicated", r.replicated.error);
  }
  return true;
}

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{} : p.string();
}

} // namespace

int run_bench(const bench_args& args) {
  bench::settings s;
  s.steps = args.steps;
  s.sagas = args.sagas;
  s.in_flight = args.in_flight;
  s.durability = args.durability == "async"  ? config::durability::async
                 : args.durability == "none" ? config::durability::none
                                             : config::durability::sync;
  s.threads = args.threads;
  s.recovery_sagas = args.recovery_sagas;
  s.memory_sagas = args.memory_sagas;
  s.waiting_sagas = args.waiting_sagas;
  s.fail_rate = args.fail_rate;
  s.rate_fraction = args.rate_fraction;
  if (!args.recovery_child.empty())
    return bench::recovery_child(s, args.recovery_child);
  if (!args.waiting_child.empty())
    return bench::waiting_child(s, args.waiting_child);

  results r;
  for (auto& p : bench_phases())
    if (args.phases.empty() || std::count(args.phases.begin(), args.phases.end(), p) > 0)
      r.phases.push_back(p);
  r.rate = args.rate;
  if (r.has("raw-storage") && !r.has("closed-loop")) {
    std::cerr << "nexus: --phases: raw-storage writes the closed loop's records: add closed-loop\n";
    return 2;
  }
  if (r.has("fixed-rate") && !r.has("closed-loop") && r.rate <= 0) {
    std::cerr << "nexus: --phases: fixed-rate runs at a share of the closed loop's rate: add "
                 "closed-loop, or give --rate\n";
    return 2;
  }
  r.threads = s.threads > 0 ? s.threads : std::max(1u, std::thread::hardware_concurrency());
  std::error_code ec;
  auto parent = args.dir.empty() ? std::filesystem::temp_directory_path(ec).string() : args.dir;
  if (!std::filesystem::is_directory(parent, ec)) {
    std::cerr << "nexus: --dir " << parent << ": not a directory\n";
    return 2;
  }
  s.dir = (std::filesystem::path{parent} / ("nexus-bench-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(s.dir, ec);
  if (ec) {
    std::cerr << "nexus: cannot create " << s.dir << ": " << ec.message() << '\n';
    return 1;
  }
  r.s = s;
  r.dir = s.dir;
  r.filesystem = filesystem_of(s.dir);
  if (r.filesystem == "tmpfs" && s.durability == config::durability::sync)
    std::cerr << "nexus: warning: " << s.dir
              << " is on tmpfs, where a sync costs nothing: the figures say nothing of a disk\n";
  std::string error;
  bool ok = run_phases(r, self_exe(), !args.no_progress, error);
  std::filesystem::remove_all(s.dir, ec);
  if (!ok) {
    std::cerr << "nexus: bench: " << error << '\n';
    return 1;
  }
  if (args.json)
    std::cout << to_json(r) << '\n';
  else
    print_report(r);
  return 0;
}

} // namespace nexus::bench
