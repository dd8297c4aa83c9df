#include "app/metrics.hpp"

#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "runtime/meters.hpp"
#include "storage/event_log.hpp"

namespace nexus::app {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

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

using labels = std::vector<ClientMetric::Label>;

/// The families of one scrape, in the order they are first named.
class exposition {
public:
  MetricFamily& family(const char* name, const char* help, MetricType type) {
    for (auto& f : families_)
      if (f.name == name)
        return f;
    families_.push_back({name, help, type, {}});
    return families_.back();
  }

  /// A counter's or a gauge's sample.
  void value(const char* name, const char* help, MetricType type, labels l, double v) {
    ClientMetric m;
    m.label = std::move(l);
    if (type == MetricType::Counter)
      m.counter.value = v;
    else
      m.gauge.value = v;
    family(name, help, type).metric.push_back(std::move(m));
  }

  void counter(const char* name, const char* help, labels l, double v) {
    value(name, help, MetricType::Counter, std::move(l), v);
  }
  void gauge(const char* name, const char* help, labels l, double v) {
    value(name, help, MetricType::Gauge, std::move(l), v);
  }

  /// A histogram's sample from `h`, its bounds and sum divided by `unit`
  /// (1e6: microseconds to seconds).
  void histogram(const char* name, const char* help, labels l, const runtime::histogram_meter& h,
                 double unit) {
    ClientMetric m;
    m.label = std::move(l);
    auto counts = h.counts();
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      total += counts[i];
      double bound = i < h.bounds().size() ? static_cast<double>(h.bounds()[i]) / unit
                                           : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back({total, bound});
    }
    m.histogram.sample_count = total;
    m.histogram.sample_sum = static_cast<double>(h.sum()) / unit;
    family(name, help, MetricType::Histogram).metric.push_back(std::move(m));
  }

  std::vector<MetricFamily>& families() { return families_; }

private:
  std::vector<MetricFamily> families_;
};

constexpr double us = 1e6; // a histogram's unit: microseconds
constexpr auto relaxed = std::memory_order_relaxed;

/// The run's counts and its breakers' states, from the engine.
void engine_figures(actors::engine& e, exposition& x) {
  auto counts = e.counts();
  for (auto& [saga, c] : counts.by_saga) {
    x.counter("nexus_sagas_started_total",
              "Sagas started by this process (their first events durable), by saga",
              {{"saga", saga}}, static_cast<double>(c.started));
    std::pair<const char*, std::uint64_t> ends[] = {{"completed", c.completed},
                                                   {"compensated", c.compensated},
                                                   {"failed", c.failed},
                                                   {"cancelled", c.cancelled}};
    for (auto& [status, n] : ends)
      x.counter("nexus_sagas_ended_total", "Sagas that ended in this process, by saga and end status",
                {{"saga", saga}, {"status", status}}, static_cast<double>(n));
  }
  x.counter("nexus_sagas_resumed_total", "Unfinished sagas found in the log at the start and resumed",
            {}, static_cast<double>(counts.resumed));
  x.gauge("nexus_sagas_in_memory",
          "Sagas in memory now, each with its actor (at most runtime.max_in_flight)", {},
          static_cast<double>(counts.in_memory));
  x.gauge("nexus_sagas_parked", "Sagas waiting out of memory (runtime.passivate_after_ms)", {},
          static_cast<double>(counts.parked));
  x.counter("nexus_log_events_written_total", "Events this process appended to the event log", {},
            static_cast<double>(counts.events));
  x.counter("nexus_log_write_batches_total", "RocksDB write batches that carried them", {},
            static_cast<double>(counts.write_batches));
  if (auto* log = e.log())
    log->for_each_breaker([&](std::string_view resource, const storage::breaker_row& row) {
      for (const char* state : {"closed", "open", "half_open", "forced_open", "disabled"})
        x.gauge("nexus_breaker_state", "1 for a breaker's current state, 0 for the others, by resource",
                {{"resource", std::string{resource}}, {"state", state}}, row.state == state ? 1 : 0);
      return true;
    });
}

/// What the hot path counted.
void board_figures(const runtime::meter_board& board, bool with_engine, exposition& x) {
  board.for_each_saga([&](const std::string& saga, const runtime::saga_meters& m) {
    for (std::size_t i = 0; i < runtime::saga_meters::statuses; ++i)
      x.histogram("nexus_saga_duration_seconds",
                  "Sagas' time from their start to their end, by saga and end status",
                  {{"saga", saga}, {"status", runtime::saga_meters::status_name(i)}},
                  m.duration[i], us);
  });
  board.for_each_step([&](const std::string& saga, const std::string& step,
                          const runtime::step_meters& m) {
    const char* kinds[] = {"action", "compensation"};
    for (std::size_t k = 0; k < 2; ++k)
      for (std::size_t o = 0; o < runtime::outcome_kinds; ++o) {
        auto n = m.attempts[k][o].load(relaxed);
        // The action's outcomes always, where sagas run; others once seen.
        if (n > 0 || (with_engine && k == 0))
          x.counter("nexus_step_attempts_total",
                    "Step attempts answered, by saga, step, kind (action or compensation) and "
                    "outcome (succeeded or the error kind)",
                    {{"saga", saga}, {"step", step}, {"kind", kinds[k]},
                     {"outcome", runtime::outcome_name(o)}},
                    static_cast<double>(n));
      }
    if (!m.staged.load(relaxed))
      return;
    for (std::size_t k = 0; k < 2; ++k)
      if (k == 0 || m.duration[k].count() > 0)
        x.histogram("nexus_step_duration_seconds",
                    "Attempts' time on a worker of this process, by saga, step and kind",
                    {{"saga", saga}, {"step", step}, {"kind", kinds[k]}}, m.duration[k], us);
    labels stage{{"stage", saga + "/" + step}};
    x.gauge("nexus_stage_queue_depth", "Calls waiting for a worker, by stage (saga/step)", stage,
            m.queued.load(relaxed));
    x.gauge("nexus_stage_busy_workers", "Calls on a worker now, by stage (saga/step)", stage,
            m.busy.load(relaxed));
    x.counter("nexus_stage_calls_total", "Step attempts a stage has run to their end, by stage",
              stage, static_cast<double>(m.calls.load(relaxed)));
    x.counter("nexus_stage_refused_total", "Step attempts refused by a full stage queue, by stage",
              stage, static_cast<double>(m.refused.load(relaxed)));
  });
  board.for_each_breaker([&](const std::string& resource, const runtime::breaker_meters& m) {
    for (std::size_t i = 0; i < runtime::breaker_meters::states; ++i)
      x.counter("nexus_breaker_transitions_total",
                "Circuit breakers' transitions, by resource and the state moved to",
                {{"resource", resource}, {"to", runtime::breaker_meters::state_name(i)}},
                static_cast<double>(m.transitions[i].load(relaxed)));
  });
  if (!with_engine)
    return;
  auto& log = board.log();
  x.histogram("nexus_log_write_batch_events", "Events per event-log write batch", {},
              log.batch_events, 1);
  x.histogram("nexus_log_write_duration_seconds",
              "Time to write a batch to the event log's memtables and WAL file", {},
              log.write_us, us);
  x.histogram("nexus_log_sync_duration_seconds",
              "Time of one fsync of the event log's WAL, covering every batch written before "
              "it (durability sync)",
              {}, log.sync_us, us);
  x.counter("nexus_log_written_bytes_total", "Bytes of the event log's write batches", {},
            static_cast<double>(log.bytes.load(relaxed)));
  auto& cluster = board.cluster();
  x.counter("nexus_cluster_nodes_joined_total",
            "Nodes that joined this coordinator (its own stages count as one)", {},
            static_cast<double>(cluster.joined.load(relaxed)));
  x.counter("nexus_cluster_nodes_lost_total", "Nodes that left or were lost", {},
            static_cast<double>(cluster.left.load(relaxed)));
  x.gauge("nexus_cluster_nodes", "Nodes joined now", {},
          static_cast<double>(cluster.nodes.load(relaxed)));
  auto& traces = board.traces();
  x.counter("nexus_trace_spans_exported_total", "Spans the collector (tracing.otlp_endpoint) took",
            {}, static_cast<double>(traces.exported.load(relaxed)));
  x.counter("nexus_trace_spans_dropped_total",
            "Spans dropped: the export queue was full, or the collector failed or refused them",
            {}, static_cast<double>(traces.dropped.load(relaxed)));
}

void process_figures(exposition& x) {
  double cpu = 0, started = 0;
  process_times(cpu, started);
  x.gauge("process_resident_memory_bytes", "Resident memory size in bytes", {}, resident_bytes());
  x.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds", {}, cpu);
  x.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds", {},
          started);
}

} // namespace

struct metrics::impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests =
    prometheus::BuildCounter()
      .Name("nexus_http_requests_total")
      .Help("HTTP requests answered, by route template and status code")
      .Register(registry);
};

metrics::metrics() : impl_(std::make_unique<impl>()) {
}

metrics::~metrics() = default;

void metrics::request_answered(const std::string& route, unsigned status) {
  impl_->requests.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
}

std::string metrics::scrape(actors::engine& e) {
  return scrape(&e, e.meters());
}

std::string metrics::scrape(const runtime::meter_board& board) {
  return scrape(nullptr, &board);
}

std::string metrics::scrape(actors::engine* e, const runtime::meter_board* board) {
  exposition x;
  if (e != nullptr)
    engine_figures(*e, x);
  if (board != nullptr)
    board_figures(*board, e != nullptr, x);
  process_figures(x);
  auto& families = x.families();
  for (auto& f : impl_->registry.Collect())
    if (!f.metric.empty())
      families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, families);
  return out.str();
}

http_handler metrics_endpoint(std::function<std::string()> scrape) {
  return [scrape = std::move(scrape)](http_request&& r, http_reply reply) {
    if (r.path != "/metrics" && r.path != "/healthz")
      return reply(problem(404, "Not found",
                           "this port serves GET /metrics and GET /healthz only, not " + r.path));
    if (r.method != "GET") {
      auto answer = problem(405, "Method not allowed", "this route takes GET");
      answer.headers.emplace_back("Allow", "GET");
      return reply(std::move(answer));
    }
    http_response answer;
    if (r.path == "/healthz") {
      answer.body = R"({"status":"serving"})";
    } else {
      answer.content_type = metrics_content_type;
      answer.body = scrape();
    }
    reply(std::move(answer));
  };
}

bool serve_metrics(http_server& server, const std::string& endpoint,
                   std::function<std::string()> scrape, std::string& error) {
  http_settings settings;
  if (!parse_endpoint("--metrics", endpoint, settings.host, settings.port, error))
    return false;
  if (settings.host == "localhost")
    settings.host = "127.0.0.1";
  settings.max_body_bytes = 4096;
  settings.max_connections = 16;
  if (!server.start(settings, metrics_endpoint(std::move(scrape)), error)) {
    error = "--metrics " + endpoint + ": " + error;
    return false;
  }
  std::cerr << "nexus: metrics on http://" << settings.host << ":" << server.port() << "/metrics"
            << std::endl;
  return true;
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
  if (s.size() == 1 && (s[0] == "console.js" || s[0] == "console.css" || s[0] == "index.html"))
    return "/" + s[0];
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
