#include "config/workflow_loader.hpp"

#include "config/json_syntax.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "config/definition.hpp"
#include "config/json_tree.hpp"
#include "config/key_reader.hpp"

namespace nexus::config {

using namespace std::string_view_literals;

namespace {

using kind = json_node::kind;

/// Reads a json_node tree into workflow structs, collecting every error.
class reader : public key_reader {
public:
  using key_reader::key_reader;

  void read_workflow(const json_node& root, workflow& wf) {
    if (!expect(root, kind::object, "(document)"))
      return;
    check_keys(root, "",
               {"runtime", "logging", "cluster", "http", "tracing", "defaults", "breakers", "sagas"});
    // Defaults first, whatever the order in the file: steps inherit them.
    if (auto m = root.find("runtime"))
      read_runtime(m->value, "runtime", wf.runtime);
    if (auto m = root.find("logging"))
      read_logging(m->value, "logging", wf.logging);
    if (auto m = root.find("cluster"))
      read_cluster(m->value, "cluster", wf.cluster);
    if (auto m = root.find("http"))
      read_http_settings(m->value, "http", wf.http);
    if (auto m = root.find("tracing"))
      read_tracing(m->value, "tracing", wf.tracing);
    if (auto m = root.find("defaults"))
      read_defaults(m->value, "defaults", wf);
    if (auto m = root.find("breakers"))
      read_breakers(m->value, "breakers", wf);
    auto sagas = root.find("sagas");
    if (sagas == nullptr) {
      error(root.line, "sagas", "missing: a workflow needs at least one saga");
      return;
    }
    read_sagas(sagas->value, "sagas", wf);
    check_breakers_used(root, wf);
  }

private:
  /// Where defaults.retry.max_interval_ms was written; "" if it was not.
  std::string default_max_interval_at_;

  void read_runtime(const json_node& n, const std::string& path, runtime_settings& rt) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"threads", "data_dir", "durability", "max_in_flight", "batch_size",
                         "retention_days", "passivate_after_ms"});
    read_uint(n, "threads", path, rt.threads, 0, 1024);
    if (read_string(n, "data_dir", path, rt.data_dir) && rt.data_dir.empty())
      error(n.find("data_dir")->line, join(path, "data_dir"), "must not be empty");
    int d = read_choice(n, "durability", path, {"sync", "async", "none"});
    if (d >= 0)
      rt.durability = static_cast<durability>(d);
    read_uint(n, "max_in_flight", path, rt.max_in_flight, 1, 100000000);
    read_uint(n, "batch_size", path, rt.batch_size, 1, 1000000);
    read_uint(n, "retention_days", path, rt.retention_days, 0, 36500);
    read_uint(n, "passivate_after_ms", path, rt.passivate_after_ms, 0, 365ull * 86400 * 1000);
  }

  void read_logging(const json_node& n, const std::string& path, logging_settings& lg) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"level", "console_level", "file", "max_file_mb", "max_files"});
    for (auto* key : {"level", "console_level"}) {
      int l = read_choice(n, key, path, {"trace", "debug", "info", "warn", "error", "off"});
      if (l >= 0)
        (std::string_view{key} == "level" ? lg.level : lg.console_level) = n.find(key)->value.text;
    }
    if (read_string(n, "file", path, lg.file) && lg.file.empty())
      error(n.find("file")->line, join(path, "file"), "must not be empty");
    read_uint(n, "max_file_mb", path, lg.max_file_mb, 1, 1024 * 1024);
    read_uint(n, "max_files", path, lg.max_files, 1, 1000);
  }

  void read_http_settings(const json_node& n, const std::string& path, http_settings& h) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"token", "tls", "max_body_bytes", "max_connections", "header_timeout_ms"});
    read_uint(n, "header_timeout_ms", path, h.header_timeout_ms, 10, 3600000);
    read_string(n, "token", path, h.token);
    read_uint(n, "max_body_bytes", path, h.max_body_bytes, 1, 1ull << 30);
    read_uint(n, "max_connections", path, h.max_connections, 1, 100000);
    auto m = n.find("tls");
    if (m == nullptr)
      return;
    auto p = join(path, "tls");
    if (!expect(m->value, kind::object, p))
      return;
    check_keys(m->value, p, {"certificate", "key"});
    for (auto [key, field] : {std::pair{"certificate", &h.tls_certificate},
                              std::pair{"key", &h.tls_key}}) {
      auto f = m->value.find(key);
      if (f == nullptr) {
        error(m->line, join(p, key), "missing: HTTPS needs certificate and key");
        continue;
      }
      if (read_string(m->value, key, p, *field)
          && (field->empty() || !std::ifstream{*field}.good()))
        error(f->line, join(p, key), "cannot read the file " + *field);
    }
  }

  void read_tracing(const json_node& n, const std::string& path, tracing_settings& t) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"otlp_endpoint", "service_name", "queue_size", "batch_size", "flush_ms",
                         "timeout_ms"});
    if (read_string(n, "otlp_endpoint", path, t.otlp_endpoint)
        && t.otlp_endpoint.rfind("http://", 0) != 0 && t.otlp_endpoint.rfind("https://", 0) != 0)
      error(n.find("otlp_endpoint")->line, join(path, "otlp_endpoint"),
            "expected an http:// or https:// URL, such as http://127.0.0.1:4318/v1/traces");
    if (read_string(n, "service_name", path, t.service_name) && t.service_name.empty())
      error(n.find("service_name")->line, join(path, "service_name"), "must not be empty");
    read_uint(n, "queue_size", path, t.queue_size, 1, 1u << 24);
    read_uint(n, "batch_size", path, t.batch_size, 1, 65536);
    read_uint(n, "flush_ms", path, t.flush_ms, 10, 3600000);
    read_uint(n, "timeout_ms", path, t.timeout_ms, 10, 600000);
  }

  void read_cluster(const json_node& n, const std::string& path, cluster_settings& c) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"name", "token", "tls", "ha"});
    if (read_string(n, "name", path, c.name) && !valid_name(c.name))
      error(n.find("name")->line, join(path, "name"),
            "must be 1 to 64 of [A-Za-z0-9_.-]");
    read_string(n, "token", path, c.token);
    if (auto m = n.find("ha"))
      read_ha(m->value, join(path, "ha"), c.ha);
    if (auto m = n.find("tls")) {
      auto p = join(path, "tls");
      if (!expect(m->value, kind::object, p))
        return;
      check_keys(m->value, p, {"certificate", "key", "ca"});
      for (auto [key, field] : {std::pair{"certificate", &c.tls.certificate},
                                std::pair{"key", &c.tls.key}, std::pair{"ca", &c.tls.ca}}) {
        auto f = m->value.find(key);
        if (f == nullptr) {
          error(m->line, join(p, key), "missing: mutual TLS needs certificate, key and ca");
          continue;
        }
        if (read_string(m->value, key, p, *field)
            && (field->empty() || !std::ifstream{*field}.good()))
          error(f->line, join(p, key), "cannot read the file " + *field);
      }
    }
  }

  void read_ha(const json_node& n, const std::string& path, cluster_settings::ha_settings& h) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"etcd", "lease_ms", "min_replicas"});
    auto m = n.find("etcd");
    auto p = join(path, "etcd");
    if (m == nullptr) {
      error(n.line, p, "missing: replicated coordinators need etcd's client URLs, such as "
                       "[\"http://127.0.0.1:2379\"]");
    } else if (expect(m->value, kind::array, p)) {
      if (m->value.items.empty())
        error(m->line, p, "must name at least one etcd client URL");
      for (size_t i = 0; i < m->value.items.size(); ++i) {
        auto& item = m->value.items[i];
        if (!expect(item, kind::string, index(p, i)))
          continue;
        if (item.text.rfind("http://", 0) != 0 || item.text.size() == 7)
          error(item.line, index(p, i),
                "expected an http:// URL of etcd's client port, such as http://127.0.0.1:2379");
        else
          h.etcd.push_back(item.text);
      }
    }
    // etcd counts leases in whole seconds; a lease under one is no lease.
    read_uint(n, "lease_ms", path, h.lease_ms, 1000, 600000);
    read_uint(n, "min_replicas", path, h.min_replicas, 1, 16);
  }

  void read_defaults(const json_node& n, const std::string& path, workflow& wf) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"timeout_ms", "retry"});
    read_uint(n, "timeout_ms", path, wf.default_timeout_ms, 1);
    if (auto m = n.find("retry"))
      read_retry(m->value, join(path, "retry"), wf.default_retry, default_max_interval_at_);
  }

  /// Reads `n` over `r`. `max_at` says where the inherited max_interval_ms
  /// was written ("" for the built-in default), and becomes this path if `n`
  /// writes it: a default cap rises to an interval written above it, so
  /// that only what the user wrote can conflict.
  void read_retry(const json_node& n, const std::string& path, retry_policy& r,
                  std::string& max_at) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"max_attempts", "initial_interval_ms", "backoff", "max_interval_ms",
                         "jitter", "non_retryable"});
    read_uint(n, "max_attempts", path, r.max_attempts);
    read_uint(n, "initial_interval_ms", path, r.initial_interval_ms);
    read_double(n, "backoff", path, r.backoff, 1.0, 1000.0);
    read_uint(n, "max_interval_ms", path, r.max_interval_ms);
    read_double(n, "jitter", path, r.jitter, 0.0, 1.0);
    read_kinds(n, "non_retryable", path, r.non_retryable);
    auto written = n.find("max_interval_ms");
    if (written)
      max_at = join(path, "max_interval_ms");
    if (r.max_interval_ms >= r.initial_interval_ms)
      return;
    if (max_at.empty()) {
      r.max_interval_ms = r.initial_interval_ms;
    } else if (written) {
      error(written->line, max_at,
            "must be at least initial_interval_ms (" + std::to_string(r.initial_interval_ms)
              + "), got " + std::to_string(r.max_interval_ms));
    } else {
      auto m = n.find("initial_interval_ms"); // only this can have moved past the cap
      error(m ? m->line : n.line, join(path, "initial_interval_ms"),
            "must be at most max_interval_ms (" + std::to_string(r.max_interval_ms) + ", set at "
              + max_at + "), got " + std::to_string(r.initial_interval_ms));
    }
  }

  void read_breakers(const json_node& n, const std::string& path, workflow& wf) {
    if (!expect(n, kind::object, path))
      return;
    for (auto& m : n.members) {
      auto p = join(path, m.key);
      if (!valid_name(m.key)) {
        error(m.line, p, "invalid resource name (1 to 64 of A-Z a-z 0-9 . _ -)");
        continue;
      }
      read_breaker(m.value, p, wf.breakers[m.key]);
    }
  }

  void read_breaker(const json_node& n, const std::string& path, breaker_spec& b) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"window", "minimum_calls", "failure_rate_threshold", "slow_call_ms",
                         "slow_call_rate_threshold", "open_ms", "open_backoff", "max_open_ms",
                         "half_open_calls", "record", "ignore", "state"});
    if (auto m = n.find("window")) {
      auto p = join(path, "window");
      if (expect(m->value, kind::object, p)) {
        check_keys(m->value, p, {"type", "size"});
        int t = read_choice(m->value, "type", p, {"count", "time"});
        if (t >= 0)
          b.window = static_cast<window_type>(t);
        read_uint(m->value, "size", p, b.window_size, 1, 1000000);
      }
    }
    read_uint(n, "minimum_calls", path, b.minimum_calls, 1, 1000000);
    read_double(n, "failure_rate_threshold", path, b.failure_rate_threshold, 0.0, 100.0);
    read_uint(n, "slow_call_ms", path, b.slow_call_ms, 1);
    read_double(n, "slow_call_rate_threshold", path, b.slow_call_rate_threshold, 0.0, 100.0);
    read_uint(n, "open_ms", path, b.open_ms, 1);
    read_double(n, "open_backoff", path, b.open_backoff, 1.0, 1000.0);
    read_uint(n, "max_open_ms", path, b.max_open_ms, 1);
    read_uint(n, "half_open_calls", path, b.half_open_calls, 1, 1000000);
    read_kinds(n, "record", path, b.record);
    read_kinds(n, "ignore", path, b.ignore);
    int s = read_choice(n, "state", path, {"forced_open", "disabled"});
    if (s >= 0)
      b.state = s == 0 ? breaker_override::forced_open : breaker_override::disabled;
    if (b.max_open_ms < b.open_ms) {
      // The default cap follows an open time written above it.
      if (auto m = n.find("max_open_ms"))
        error(m->line, join(path, "max_open_ms"),
              "must be at least open_ms (" + std::to_string(b.open_ms) + "), got "
                + std::to_string(b.max_open_ms));
      else
        b.max_open_ms = b.open_ms;
    }
  }

  void read_sagas(const json_node& n, const std::string& path, workflow& wf) {
    if (!expect(n, kind::object, path))
      return;
    if (n.members.empty())
      error(n.line, path, "a workflow needs at least one saga");
    for (auto& m : n.members) {
      auto p = join(path, m.key);
      if (!valid_name(m.key)) {
        error(m.line, p, "invalid saga name (1 to 64 of A-Z a-z 0-9 . _ -)");
        continue;
      }
      auto& saga = wf.sagas[m.key];
      saga.name = m.key;
      read_saga(m.value, p, wf, saga);
    }
  }

  void read_saga(const json_node& n, const std::string& path, const workflow& wf,
                 saga_spec& saga) {
    if (!expect(n, kind::object, path))
      return;
    check_keys(n, path, {"deadline_ms", "steps"});
    read_uint(n, "deadline_ms", path, saga.deadline_ms);
    auto steps = n.find("steps");
    auto sp = join(path, "steps");
    if (steps == nullptr) {
      error(n.line, sp, "missing: a saga needs at least one step");
      return;
    }
    if (!expect(steps->value, kind::array, sp))
      return;
    if (steps->value.items.empty())
      error(steps->line, sp, "a saga needs at least one step");
    std::set<std::string> names;
    for (size_t i = 0; i < steps->value.items.size(); ++i) {
      auto& item = steps->value.items[i];
      auto ip = index(sp, i);
      if (!expect(item, kind::object, ip))
        continue;
      step_group g{static_cast<std::uint32_t>(saga.steps.size()), 0};
      if (auto par = item.find("parallel")) {
        check_keys(item, ip, {"parallel"});
        auto pp = join(ip, "parallel");
        if (!expect(par->value, kind::array, pp))
          continue;
        if (par->value.items.empty())
          error(par->line, pp, "a parallel group needs at least one step");
        for (size_t j = 0; j < par->value.items.size(); ++j)
          if (read_step(par->value.items[j], index(pp, j), wf, saga, names))
            ++g.count;
      } else if (read_step(item, ip, wf, saga, names)) {
        g.count = 1;
      }
      if (g.count > 0)
        saga.groups.push_back(g);
    }
    saga.index_groups();
    stamp_definition(saga);
  }

  bool read_step(const json_node& n, const std::string& path, const workflow& wf,
                 saga_spec& saga, std::set<std::string>& names) {
    if (!expect(n, kind::object, path))
      return false;
    if (n.find("parallel")) {
      error(n.find("parallel")->line, join(path, "parallel"),
            "parallel groups cannot be nested");
      return false;
    }
    check_keys(n, path,
               {"name", "resource", "timeout_ms", "concurrency", "queue", "action", "compensate",
                "retry"});
    step_spec step;
    step.timeout_ms = wf.default_timeout_ms;
    step.retry = wf.default_retry;
    if (!read_string(n, "name", path, step.name)) {
      if (n.find("name") == nullptr)
        error(n.line, join(path, "name"), "missing: every step needs a name");
    } else if (!valid_name(step.name)) {
      error(n.find("name")->line, join(path, "name"),
            "invalid step name " + in_quotes(step.name) + " (1 to 64 of A-Z a-z 0-9 . _ -)");
    } else if (!names.insert(step.name).second) {
      error(n.find("name")->line, join(path, "name"),
            "step name " + in_quotes(step.name) + " is used twice in this saga");
    }
    if (read_string(n, "resource", path, step.resource) && !valid_name(step.resource))
      error(n.find("resource")->line, join(path, "resource"),
            "invalid resource name " + in_quotes(step.resource) + " (1 to 64 of A-Z a-z 0-9 . _ -)");
    read_uint(n, "timeout_ms", path, step.timeout_ms, 1);
    read_uint(n, "concurrency", path, step.concurrency, 1, 100000);
    read_uint(n, "queue", path, step.queue, 1, 10000000);
    if (auto m = n.find("action"))
      read_action(m->value, join(path, "action"), step.action);
    else
      error(n.line, join(path, "action"), "missing: every step needs an action");
    auto max_at = default_max_interval_at_;
    if (auto m = n.find("retry"))
      read_retry(m->value, join(path, "retry"), step.retry, max_at);
    else if (step.action.kind == action_kind::wait)
      step.retry.max_attempts = 1; // a wait that timed out is tried again only if asked to
    step.compensate_retry = step.retry;
    if (auto m = n.find("compensate")) {
      step.compensate.emplace();
      read_action(m->value, join(path, "compensate"), *step.compensate, true);
      if (auto r = m->value.find("retry"))
        read_retry(r->value, join(join(path, "compensate"), "retry"), step.compensate_retry, max_at);
    }
    saga.steps.push_back(std::move(step));
    return true;
  }

  void read_action(const json_node& n, const std::string& path, action_spec& a,
                   bool compensation = false) {
    if (!expect(n, kind::object, path))
      return;
    if (n.find("kind") == nullptr) {
      error(n.line, join(path, "kind"),
            "missing: an action needs a kind (simulate, exec, http, handler, sleep, wait)");
      return;
    }
    int k = read_choice(n, "kind", path, {"simulate", "exec", "http", "handler", "sleep", "wait"});
    if (k < 0)
      return;
    a.kind = static_cast<action_kind>(k);
    // A compensation may carry its own retry policy, read by read_step.
    auto keys = [compensation](std::initializer_list<std::string_view> own) {
      std::vector<std::string_view> all{"kind"};
      all.insert(all.end(), own);
      if (compensation)
        all.push_back("retry");
      return all;
    };
    switch (a.kind) {
      case action_kind::simulate:
        check_keys(n, path,
                   keys({"latency_ms", "cpu_ms", "fail_rate", "fail_first", "fail_kind", "seed"}));
        read_simulate(n, path, a.simulate);
        break;
      case action_kind::exec:
        check_keys(n, path, keys({"argv", "env", "max_output_bytes"}));
        read_exec(n, path, a.exec);
        break;
      case action_kind::http:
        check_keys(n, path, keys({"url", "headers", "max_output_bytes"}));
        read_http(n, path, a.http);
        break;
      case action_kind::handler:
        check_keys(n, path, keys({"name"}));
        if (!read_string(n, "name", path, a.handler))
          error(n.line, join(path, "name"), "missing: a handler action names its handler");
        else if (!valid_name(a.handler))
          error(n.find("name")->line, join(path, "name"),
                "invalid handler name " + in_quotes(a.handler) + " (1 to 64 of A-Z a-z 0-9 . _ -)");
        break;
      case action_kind::sleep:
        check_keys(n, path, keys({"ms", "until"}));
        read_sleep(n, path, a.sleep);
        break;
      case action_kind::wait:
        check_keys(n, path, keys({"signal", "timeout_ms"}));
        if (compensation) {
          error(n.find("kind")->line, join(path, "kind"),
                "a compensation cannot wait for a signal: it must finish on its own "
                "(a sleep may stand here)");
          break;
        }
        if (!read_string(n, "signal", path, a.wait.signal))
          error(n.line, join(path, "signal"), "missing: a wait action names the signal it waits for");
        else if (!valid_name(a.wait.signal))
          error(n.find("signal")->line, join(path, "signal"),
                "invalid signal name " + in_quotes(a.wait.signal) + " (1 to 64 of A-Z a-z 0-9 . _ -)");
        read_uint(n, "timeout_ms", path, a.wait.timeout_ms, 1, max_wait_ms);
        break;
    }
  }

  /// A hundred years: longer waits are typing mistakes.
  static constexpr std::uint64_t max_wait_ms = 100ull * 366 * 24 * 3600 * 1000;

  void read_sleep(const json_node& n, const std::string& path, sleep_action& s) {
    auto ms = n.find("ms");
    auto until = n.find("until");
    if ((ms == nullptr) == (until == nullptr)) {
      error(n.line, path, ms == nullptr ? "missing: a sleep action needs ms or until"
                                        : "a sleep action takes ms or until, not both");
      return;
    }
    if (ms != nullptr) {
      read_uint(n, "ms", path, s.ms, 0, max_wait_ms);
      return;
    }
    if (read_string(n, "until", path, s.until) && (s.until.empty() || s.until[0] != '/'))
      error(until->line, join(path, "until"),
            "must be a JSON Pointer into the step's input, such as \"/input/ship_at\", got "
              + in_quotes(s.until));
  }

  void read_simulate(const json_node& n, const std::string& path, simulate_action& s) {
    read_uint(n, "latency_ms", path, s.latency_ms, 0, 24ull * 3600 * 1000);
    read_uint(n, "cpu_ms", path, s.cpu_ms, 0, 3600ull * 1000);
    read_double(n, "fail_rate", path, s.fail_rate, 0.0, 1.0);
    read_uint(n, "fail_first", path, s.fail_first);
    int fk = read_choice(n, "fail_kind", path, {"transient", "permanent", "timeout"});
    if (fk >= 0)
      s.fail_kind = static_cast<error_kind>(fk);
    read_uint(n, "seed", path, s.seed);
  }

  void read_exec(const json_node& n, const std::string& path, exec_action& x) {
    auto m = n.find("argv");
    auto p = join(path, "argv");
    if (m == nullptr) {
      error(n.line, p, "missing: an exec action needs argv, the program and its arguments");
    } else if (expect(m->value, kind::array, p)) {
      if (m->value.items.empty())
        error(m->line, p, "must name at least the program");
      for (size_t i = 0; i < m->value.items.size(); ++i) {
        auto& item = m->value.items[i];
        if (!expect(item, kind::string, index(p, i)))
          continue;
        if (item.text.find('\0') != std::string::npos || (i == 0 && item.text.empty()))
          error(item.line, index(p, i), i == 0 ? "the program is empty" : "contains a NUL byte");
        x.argv.push_back(item.text);
      }
    }
    read_string_map(n, "env", path, x.env, true);
    read_uint(n, "max_output_bytes", path, x.max_output_bytes, 1, 1ull << 30);
  }

  void read_http(const json_node& n, const std::string& path, http_action& h) {
    if (!read_string(n, "url", path, h.url)) {
      if (n.find("url") == nullptr)
        error(n.line, join(path, "url"), "missing: an http action needs a url");
    } else if (h.url.rfind("http://", 0) != 0 && h.url.rfind("https://", 0) != 0) {
      error(n.find("url")->line, join(path, "url"),
            "must start with http:// or https://, got " + in_quotes(h.url));
    }
    read_string_map(n, "headers", path, h.headers, false);
    read_uint(n, "max_output_bytes", path, h.max_output_bytes, 1, 1ull << 30);
  }

  void check_breakers_used(const json_node& root, const workflow& wf) {
    auto bn = root.find("breakers");
    if (bn == nullptr || bn->value.type != kind::object)
      return;
    for (auto& m : bn->value.members) {
      bool used = false;
      for (auto& [_, saga] : wf.sagas)
        for (auto& step : saga.steps)
          used = used || step.resource == m.key;
      if (!used)
        error(m.line, join("breakers", m.key),
              "no step uses resource " + in_quotes(m.key) + " (remove it or set a step's resource)");
    }
  }

};

} // namespace

std::string config_error::to_string() const {
  std::string out = file;
  if (line > 0)
    out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty())
    out += path + ": ";
  out += message;
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '.' || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

load_result parse_workflow(std::string_view text, const std::string& file_name) {
  load_result result;
  json_parse_error perr;
  auto root = parse_json_tree(without_bom(text), perr);
  if (!root) {
    auto where = perr.column > 0 ? " at column " + std::to_string(perr.column) : std::string{};
    result.errors.push_back({file_name, perr.line, "",
                             perr.syntax ? "invalid JSON" + where + ": " + perr.message
                                         : "cannot take this JSON: " + perr.message});
    return result;
  }
  workflow wf;
  reader r{file_name, result.errors};
  r.read_workflow(*root, wf);
  if (result.errors.empty())
    result.value = std::move(wf);
  return result;
}

load_result load_workflow(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    load_result result;
    result.errors.push_back({path, 0, "", std::string{"cannot open: "} + std::strerror(errno)});
    return result;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_workflow(buf.str(), path);
}

} // namespace nexus::config
