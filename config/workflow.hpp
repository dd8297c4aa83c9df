#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/error_kind.hpp"

namespace nexus::config {

/// How failed attempts of a step are retried. The delay before attempt n
/// (n >= 2) is min(initial_interval_ms * backoff^(n-2), max_interval_ms),
/// spread uniformly by +-jitter.
struct retry_policy {
  std::uint32_t max_attempts = 3;          ///< Attempts in all; 0 means unlimited.
  std::uint64_t initial_interval_ms = 100; ///< Delay before the second attempt.
  double backoff = 2.0;                    ///< Growth of the delay per attempt, >= 1.
  std::uint64_t max_interval_ms = 10000;   ///< Cap on the delay.
  double jitter = 0.2;                     ///< Fraction in [0, 1] by which a delay may vary.
  std::vector<error_kind> non_retryable = {error_kind::permanent};

  bool retryable(error_kind k) const;
};

enum class action_kind : std::uint8_t { simulate, exec, http, handler, sleep, wait };

std::string_view to_string(action_kind k);

/// A step executed by the runtime itself, deterministically from `seed`, the
/// correlation ID, the step and the attempt: for demos, tests and benchmarks.
struct simulate_action {
  std::uint64_t latency_ms = 0;              ///< Time each attempt waits (holding no thread).
  std::uint64_t cpu_ms = 0;                  ///< CPU time each attempt burns on its worker's thread.
  double fail_rate = 0.0;                    ///< Chance in [0, 1] that an attempt fails.
  std::uint32_t fail_first = 0;              ///< The first N attempts fail.
  error_kind fail_kind = error_kind::transient; ///< How failing attempts fail.
  std::uint64_t seed = 0;
};

/// A program run without a shell. It reads the step's JSON on stdin and
/// prints its output JSON on stdout; exit 0 is success, 75 (EX_TEMPFAIL) a
/// transient failure, anything else permanent. NEXUS_CORRELATION_ID,
/// NEXUS_STEP, NEXUS_ATTEMPT and NEXUS_IDEMPOTENCY_KEY are set for it.
struct exec_action {
  std::vector<std::string> argv;            ///< Program (looked up in PATH) and arguments.
  std::map<std::string, std::string> env;   ///< Added to the inherited environment.
  std::uint64_t max_output_bytes = 1 << 20; ///< More on stdout fails the attempt.
};

/// A POST of the step's JSON with an `Idempotency-Key` header: 2xx is
/// success, 408, 429, 5xx and connection errors transient, other 4xx
/// permanent.
struct http_action {
  std::string url;                              ///< http:// or https://
  std::map<std::string, std::string> headers;   ///< Sent with every request.
  std::uint64_t max_output_bytes = 1 << 20;     ///< A longer body fails the attempt.
};

/// Succeeds when its time comes: `ms` after the attempt starts, or at the
/// RFC 3339 time that the JSON Pointer `until` names in the step's input.
/// Run by the saga itself: no stage, no thread, no step timeout.
struct sleep_action {
  std::uint64_t ms = 0;
  std::string until; ///< A JSON Pointer ("/input/ship_at"); empty: `ms`.
};

/// Succeeds when a signal named `signal` comes for the saga (one that came
/// before is consumed at once), its output the signal's data; past
/// `timeout_ms` it fails with kind `timeout`. Run by the saga itself.
struct wait_action {
  std::string signal;
  std::uint64_t timeout_ms = 0; ///< 0: no limit but the saga's deadline.
};

/// What runs for a step or its compensation: the member named by `kind`.
struct action_spec {
  action_kind kind = action_kind::simulate;
  simulate_action simulate;
  exec_action exec;
  http_action http;
  std::string handler; ///< Name of a C++ handler registered by the embedding program.
  sleep_action sleep;
  wait_action wait;

  /// Whether an attempt holds a thread while it runs (exec, http, handler).
  bool blocks() const {
    return kind == action_kind::exec || kind == action_kind::http || kind == action_kind::handler;
  }
  /// Whether the saga runs it itself, by waiting (sleep, wait), not a stage.
  bool waits() const { return kind == action_kind::sleep || kind == action_kind::wait; }
};

struct step_spec {
  std::string name;
  std::string resource;              ///< Empty: guarded by no breaker.
  std::uint64_t timeout_ms = 30000;  ///< From defaults.timeout_ms unless given.
  /// Attempts of this step (and its compensation) that run at once, each on
  /// a worker of the step's stage (a bulkhead). 0: 64 per core for
  /// `simulate`, 4 per core for kinds that hold a thread (exec, http,
  /// handler), since each of those holds one.
  std::uint32_t concurrency = 0;
  /// Calls that may wait for a worker; one more is refused as `circuit_open`
  /// (the saga waits and tries again, using up no attempt). 0: the run's
  /// max_in_flight, which live sagas cannot exceed.
  std::uint32_t queue = 0;
  action_spec action;
  std::optional<action_spec> compensate; ///< None: the step is a pivot.
  retry_policy retry;                ///< defaults.retry, overridden key by key.
  /// Of the compensation: `compensate.retry` over the step's own policy.
  retry_policy compensate_retry;
};

/// A run of steps that execute together; one step for a plain sequential step,
/// several for a `parallel` group. Indexes into saga_spec::steps.
struct step_group {
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};

struct saga_spec {
  std::string name;
  /// Its definition_hash (config/definition.hpp), in hex: the
  /// key it is stored under in the event log. Set by the loader.
  std::string hash;
  std::uint64_t id = 0; ///< The hash's first 64 bits: what messages carry.
  std::uint64_t deadline_ms = 0;  ///< 0: no deadline.
  std::vector<step_spec> steps;   ///< In order; a parallel group's members are adjacent.
  std::vector<step_group> groups; ///< In execution order, covering `steps`.
  /// Step index to the index of its group: set by index_groups(), once, so
  /// that no saga instance keeps a copy.
  std::vector<std::uint32_t> group_of;

  /// Index of the step called `name`, or -1.
  int find_step(const std::string& name) const;

  /// Fills `group_of` from `groups`.
  void index_groups();
};

enum class durability : std::uint8_t {
  sync,  ///< fsync per write batch: survives a power loss.
  async, ///< Written to the OS: survives a process crash, not a power loss.
  none,  ///< No write-ahead log: for benchmarks only.
};

struct runtime_settings {
  std::uint32_t threads = 0;            ///< Scheduler threads; 0: one per core.
  std::string data_dir = ".nexus";      ///< The event log's directory.
  enum durability durability = durability::sync;
  std::uint64_t max_in_flight = 10000;  ///< Live sagas at most.
  std::uint32_t batch_size = 1024;      ///< Appends gathered into one write at most.
  std::uint32_t retention_days = 0;     ///< Remove events of sagas ended this long ago; 0: never.
  /// A saga that will wait longer than this (a sleep, a wait for a signal,
  /// a retry's back-off) leaves memory: its actor and machine go, and its
  /// timer, a signal or a cancel brings it back from its events.
  std::uint64_t passivate_after_ms = 5000;
};

struct logging_settings {
  std::string level = "info";              ///< Of the file: trace, debug, info, warn, error, off.
  std::string console_level = "warn";      ///< Of the console (stderr), the same names.
  std::string file = "logs/nexus.jsonl";   ///< Under the data directory unless absolute.
  std::uint64_t max_file_mb = 64;          ///< Size at which the file rotates.
  std::uint32_t max_files = 5;             ///< Rotated files kept.
};

/// How the nodes of a cluster know each other (see docs/cluster.md).
struct cluster_settings {
  /// Checked in CAF's handshake (middleman.app-identifiers): nodes of
  /// another cluster cannot connect.
  std::string name = "nexus";
  /// What a node presents to join or submit; NEXUS_CLUSTER_TOKEN, if set,
  /// takes its place. Empty: no token is asked for (127.0.0.1 only).
  std::string token;
  /// Mutual TLS between nodes (PEM files): this node's certificate and key,
  /// and the CA that every node's certificate must be signed by. All three
  /// or none; none: plain TCP.
  struct tls_files {
    std::string certificate;
    std::string key;
    std::string ca;
    bool on() const { return !certificate.empty(); }
  } tls;
  /// Replicated coordinators (docs/ha.md): leadership held in etcd, the
  /// leader's log copied to the others. Off while `etcd` is empty.
  struct ha_settings {
    std::vector<std::string> etcd; ///< etcd client URLs (http://HOST:PORT), tried in turn.
    std::uint32_t lease_ms = 3000; ///< The leader's lease: a failover takes about this long.
    /// Followers that must hold a write durable before it is acknowledged.
    std::uint32_t min_replicas = 1;
    bool on() const { return !etcd.empty(); }
  } ha;
};

/// The HTTP API of `nexus serve --http` (see docs/http.md).
struct http_settings {
  /// Bearer token every request but /healthz and /readyz must carry;
  /// NEXUS_HTTP_TOKEN, if set, takes its place. Empty: none (127.0.0.1 only).
  std::string token;
  std::string tls_certificate, tls_key; ///< PEM files: HTTPS. Both or none.
  std::uint64_t max_body_bytes = 1 << 20;
  std::uint32_t max_connections = 256;
  /// A request (headers and body) not read whole by then closes its
  /// connection; also how long a keep-alive connection may stay silent.
  std::uint32_t header_timeout_ms = 10000;
};

/// `tracing`: where spans go (docs/tracing.md). Without an endpoint none
/// are exported; trace context is carried either way.
struct tracing_settings {
  /// OTLP/HTTP traces endpoint, such as http://127.0.0.1:4318/v1/traces.
  std::string otlp_endpoint;
  std::string service_name = "nexus"; ///< The spans' resource `service.name`.
  std::uint32_t queue_size = 8192;    ///< Spans waiting to go; more are dropped (and counted).
  std::uint32_t batch_size = 512;     ///< Spans per request at most.
  std::uint32_t flush_ms = 1000;      ///< A batch goes at least this often.
  std::uint32_t timeout_ms = 5000;    ///< Of one request to the collector.
};

enum class window_type : std::uint8_t { count, time };
enum class breaker_override : std::uint8_t { none, forced_open, disabled };

/// Circuit-breaker settings of one resource. Defaults are Resilience4j's
/// (CircuitBreakerConfig) where it has one.
struct breaker_spec {
  window_type window = window_type::count;
  std::uint32_t window_size = 100;          ///< Calls, or seconds for a time window.
  std::uint32_t minimum_calls = 100;        ///< Calls before a rate is judged.
  double failure_rate_threshold = 50;       ///< Percent.
  std::uint64_t slow_call_ms = 60000;       ///< A call at least this long is slow.
  double slow_call_rate_threshold = 100;    ///< Percent.
  std::uint64_t open_ms = 60000;            ///< Time open before half-open.
  double open_backoff = 1.0;                ///< Growth of open_ms per re-open (Akka).
  std::uint64_t max_open_ms = 300000;       ///< Cap on the grown open time.
  std::uint32_t half_open_calls = 10;       ///< Trial calls in half-open.
  std::vector<error_kind> record = {error_kind::transient, error_kind::permanent,
                                    error_kind::timeout};
  std::vector<error_kind> ignore;           ///< Kinds counted neither way.
  breaker_override state = breaker_override::none;
};

/// A whole workflow file.
struct workflow {
  runtime_settings runtime;
  logging_settings logging;
  cluster_settings cluster;
  struct http_settings http;
  tracing_settings tracing;
  std::uint64_t default_timeout_ms = 30000;
  retry_policy default_retry;
  std::map<std::string, breaker_spec> breakers;
  std::map<std::string, saga_spec> sagas;

  const saga_spec* find_saga(const std::string& name) const;
};

std::string_view to_string(durability d);

} // namespace nexus::config
