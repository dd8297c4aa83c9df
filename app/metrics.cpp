#include "app/metrics.hpp"

#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include "actors/engine.hpp"
#include "storage/event_log.hpp"

namespace nexus::app {

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

/// A counter set to a running total read elsewhere (counters only rise:
/// the total of a run never falls).
void set_total(Counter& c, double total) {
  auto now = c.Value();
  if (total > now)
    c.Increment(total - now);
}

/// This process's CPU seconds (user + system) and start time (seconds since
/// the epoch), from /proc: fields 14, 15 and 22 of /proc/self/stat, and the
/// boot time in /proc/stat.
void process_times(double& cpu_seconds, double& start_seconds) {
  std::ifstream stat{"/proc/self/stat"};
  std::string text{std::istreambuf_iterator<char>{stat}, {}};
  auto close = text.rfind(')'); // the command may hold spaces
  if (close == std::string::npos)
    return;
  std::istringstream fields{text.substr(close + 2)};
  std::string field;
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double utime = 0, stime = 0, started = 0;
  for (int i = 3; fields >> field; ++i) {
    if (i == 14)
      utime = std::stod(field);
    else if (i == 15)
      stime = std::stod(field);
    else if (i == 22) {
      started = std::stod(field);
      break;
    }
  }
  cpu_seconds = (utime + stime) / ticks;
  std::ifstream boot{"/proc/stat"};
  std::string key;
  double btime = 0;
  while (boot >> key)
    if (key == "btime") {
      boot >> btime;
      break;
    }
  start_seconds = btime + started / ticks;
}

double resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  double pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

} // namespace

struct metrics::impl {
  prometheus::Registry registry;
  Family<Counter>& started = prometheus::BuildCounter()
                               .Name("nexus_sagas_started_total")
                               .Help("Sagas started by this process (their first events durable), by saga")
                               .Register(registry);
  Family<Counter>& ended = prometheus::BuildCounter()
                             .Name("nexus_sagas_ended_total")
                             .Help("Sagas that ended in this process, by saga and end status")
                             .Register(registry);
  Family<Counter>& resumed = prometheus::BuildCounter()
                               .Name("nexus_sagas_resumed_total")
                               .Help("Unfinished sagas found in the log at the start and resumed")
                               .Register(registry);
  Family<Gauge>& in_memory = prometheus::BuildGauge()
                               .Name("nexus_sagas_in_memory")
                               .Help("Sagas in memory now, each with its actor (at most runtime.max_in_flight)")
                               .Register(registry);
  Family<Gauge>& parked = prometheus::BuildGauge()
                            .Name("nexus_sagas_parked")
                            .Help("Sagas waiting out of memory (runtime.passivate_after_ms)")
                            .Register(registry);
  Family<Gauge>& queued = prometheus::BuildGauge()
                            .Name("nexus_stage_queue_depth")
                            .Help("Calls waiting for a worker, by stage (saga/step)")
                            .Register(registry);
  Family<Gauge>& busy = prometheus::BuildGauge()
                          .Name("nexus_stage_busy_workers")
                          .Help("Calls on a worker now, by stage (saga/step)")
                          .Register(registry);
  Family<Counter>& calls = prometheus::BuildCounter()
                             .Name("nexus_stage_calls_total")
                             .Help("Step attempts a stage has run to their end, by stage")
                             .Register(registry);
  Family<Counter>& refused = prometheus::BuildCounter()
                               .Name("nexus_stage_refused_total")
                               .Help("Step attempts refused by a full stage queue, by stage")
                               .Register(registry);
  Family<Gauge>& breaker = prometheus::BuildGauge()
                             .Name("nexus_breaker_state")
                             .Help("1 for a breaker's current state, 0 for the others, by resource")
                             .Register(registry);
  Family<Counter>& events = prometheus::BuildCounter()
                              .Name("nexus_log_events_written_total")
                              .Help("Events this process appended to the event log")
                              .Register(registry);
  Family<Counter>& batches = prometheus::BuildCounter()
                               .Name("nexus_log_write_batches_total")
                               .Help("RocksDB write batches that carried them")
                               .Register(registry);
  Family<Counter>& requests = prometheus::BuildCounter()
                                .Name("nexus_http_requests_total")
                                .Help("HTTP requests answered, by route template and status code")
                                .Register(registry);
  Family<Gauge>& rss = prometheus::BuildGauge()
                         .Name("process_resident_memory_bytes")
                         .Help("Resident memory size in bytes")
                         .Register(registry);
  Family<Counter>& cpu = prometheus::BuildCounter()
                           .Name("process_cpu_seconds_total")
                           .Help("Total user and system CPU time spent in seconds")
                           .Register(registry);
  Family<Gauge>& start_time = prometheus::BuildGauge()
                                .Name("process_start_time_seconds")
                                .Help("Start time of the process since unix epoch in seconds")
                                .Register(registry);
  /// One scrape at a time: each reads the engine and sets what it read.
  std::mutex scraping;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
}

metrics::~metrics() = default;

void metrics::request_answered(const std::string& route, unsigned status) {
  impl_->requests.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
}

std::string metrics::scrape(actors::engine& e) {
  auto& m = *impl_;
  std::lock_guard<std::mutex> lock{m.scraping};
  auto counts = e.counts();
  for (auto& [saga, c] : counts.by_saga) {
    set_total(m.started.Add({{"saga", saga}}), static_cast<double>(c.started));
    std::pair<const char*, std::uint64_t> ends[] = {{"completed", c.completed},
                                                   {"compensated", c.compensated},
                                                   {"failed", c.failed},
                                                   {"cancelled", c.cancelled}};
    for (auto& [status, n] : ends)
      set_total(m.ended.Add({{"saga", saga}, {"status", status}}), static_cast<double>(n));
  }
  set_total(m.resumed.Add({}), static_cast<double>(counts.resumed));
  m.in_memory.Add({}).Set(static_cast<double>(counts.in_memory));
  m.parked.Add({}).Set(static_cast<double>(counts.parked));
  set_total(m.events.Add({}), static_cast<double>(counts.events));
  set_total(m.batches.Add({}), static_cast<double>(counts.write_batches));
  for (auto& [stage, st] : e.stages()) {
    prometheus::Labels l{{"stage", stage}};
    m.queued.Add(l).Set(st.queued);
    m.busy.Add(l).Set(st.running);
    set_total(m.calls.Add(l), static_cast<double>(st.calls));
    set_total(m.refused.Add(l), static_cast<double>(st.refused));
  }
  if (auto* log = e.log())
    log->for_each_breaker([&](std::string_view resource, const storage::breaker_row& row) {
      for (const char* state : {"closed", "open", "half_open", "forced_open", "disabled"})
        m.breaker.Add({{"resource", std::string{resource}}, {"state", state}})
          .Set(row.state == state ? 1 : 0);
      return true;
    });
  double cpu = 0, started = 0;
  process_times(cpu, started);
  m.rss.Add({}).Set(resident_bytes());
  set_total(m.cpu.Add({}), cpu);
  m.start_time.Add({}).Set(started);
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, m.registry.Collect());
  return out.str();
}

std::string route_template(const std::string& method, const std::string& path) {
  std::vector<std::string> s;
  std::string part;
  auto end = path.find('?');
  std::istringstream in{path.substr(0, end)};
  while (std::getline(in, part, '/'))
    if (!part.empty())
      s.push_back(part);
  if (s.empty())
    return "/";
  if (s.size() == 1 && (s[0] == "healthz" || s[0] == "readyz" || s[0] == "mcp" || s[0] == "metrics"))
    return "/" + s[0];
  if (s[0] != "v1")
    return "other";
  if (s.size() == 2 && (s[1] == "breakers" || s[1] == "stats" || s[1] == "openapi.json"
                        || s[1] == "events" || s[1] == "sagas"))
    return "/v1/" + s[1];
  if (s.size() < 3 || s[1] != "sagas")
    return "other";
  if (s.size() == 3)
    return method == "POST" ? "/v1/sagas/{saga}" : "/v1/sagas/{cid}";
  if (s.size() == 4 && (s[3] == "events" || s[3] == "cancel" || s[3] == "retry"))
    return "/v1/sagas/{cid}/" + s[3];
  if (s.size() == 5 && s[3] == "signals")
    return "/v1/sagas/{cid}/signals/{name}";
  return "other";
}

} // namespace nexus::app
