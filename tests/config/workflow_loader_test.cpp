#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"

namespace config_workflow_loader_test {

using namespace nexus::config;

namespace {

/// The errors of loading `text`, as `line: path: message` strings.
std::vector<std::string> errors_of(const std::string& text) {
  auto r = parse_workflow(text, "wf.json");
  std::vector<std::string> out;
  for (auto& e : r.errors)
    out.push_back(e.to_string());
  return out;
}

bool has_error(const std::string& text, const std::string& needle) {
  for (auto& e : errors_of(text))
    if (e.find(needle) != std::string::npos)
      return true;
  return false;
}

const char* minimal = R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})";

} // namespace

BOOST_AUTO_TEST_SUITE(workflow_loader)

BOOST_AUTO_TEST_CASE(minimal_file_gets_documented_defaults) {
  auto r = parse_workflow(minimal, "wf.json");
  BOOST_REQUIRE(r.ok());
  auto& wf = *r.value;
  BOOST_TEST(wf.runtime.threads == 0u);
  BOOST_TEST(wf.runtime.data_dir == ".nexus");
  BOOST_TEST((wf.runtime.durability == durability::sync));
  BOOST_TEST(wf.runtime.max_in_flight == 10000u);
  auto& step = wf.sagas.at("s").steps.at(0);
  BOOST_TEST(step.timeout_ms == 30000u);
  BOOST_TEST(step.retry.max_attempts == 3u);
  BOOST_TEST(step.retry.backoff == 2.0);
  BOOST_TEST(!step.compensate.has_value());
}

BOOST_AUTO_TEST_CASE(step_retry_overrides_defaults_key_by_key) {
  auto r = parse_workflow(R"({
    "defaults": {"timeout_ms": 700, "retry": {"max_attempts": 4, "jitter": 0.5}},
    "sagas": {"s": {"steps": [
      {"name": "a", "action": {"kind": "simulate"}, "retry": {"max_attempts": 9}}]}}})",
                          "wf.json");
  BOOST_REQUIRE(r.ok());
  auto& step = r.value->sagas.at("s").steps.at(0);
  BOOST_TEST(step.retry.max_attempts == 9u);
  BOOST_TEST(step.retry.jitter == 0.5);
  BOOST_TEST(step.timeout_ms == 700u);
}

BOOST_AUTO_TEST_CASE(parallel_groups_become_step_groups) {
  auto r = parse_workflow(R"({"sagas": {"s": {"steps": [
      {"name": "a", "action": {"kind": "simulate"}},
      {"parallel": [{"name": "b", "action": {"kind": "simulate"}},
                    {"name": "c", "action": {"kind": "simulate"}}]},
      {"name": "d", "action": {"kind": "simulate"}}]}}})",
                          "wf.json");
  BOOST_REQUIRE(r.ok());
  auto& saga = r.value->sagas.at("s");
  BOOST_REQUIRE_EQUAL(saga.groups.size(), 3u);
  BOOST_TEST(saga.groups[1].first == 1u);
  BOOST_TEST(saga.groups[1].count == 2u);
  BOOST_TEST(saga.steps[3].name == "d");
}

BOOST_AUTO_TEST_CASE(the_example_workflow_loads) {
  auto r = load_workflow(NEXUS_SOURCE_DIR "/examples/order.json");
  for (auto& e : r.errors)
    BOOST_TEST_MESSAGE(e.to_string());
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r.value->sagas.at("order").steps.size() == 3u);
}

BOOST_AUTO_TEST_CASE(unknown_key_is_named_with_its_path_and_line) {
  auto errs = errors_of("{\n\"sagas\": {\"s\": {\"steps\": [\n"
                        "{\"name\": \"a\", \"action\": {\"kind\": \"simulate\", \"latncy_ms\": 1}}]}}}");
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_TEST(errs[0].find("wf.json:3: sagas.s.steps[0].action.latncy_ms: unknown key") == 0);
}

BOOST_AUTO_TEST_CASE(wrong_types_are_refused) {
  BOOST_TEST(has_error(R"({"runtime": {"threads": "two"}, "sagas": {}})",
                       "runtime.threads: expected a number, got a string"));
  BOOST_TEST(has_error(R"({"runtime": {"max_in_flight": 1.5}, "sagas": {}})",
                       "runtime.max_in_flight: must be a whole number"));
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": {}}}})",
                       "sagas.s.steps: expected an array, got an object"));
}

BOOST_AUTO_TEST_CASE(impossible_values_are_refused) {
  BOOST_TEST(has_error(R"({"defaults": {"retry": {"initial_interval_ms": -1}}, "sagas": {}})",
                       "defaults.retry.initial_interval_ms: must not be negative"));
  BOOST_TEST(has_error(R"({"defaults": {"retry": {"jitter": 1.2}}, "sagas": {}})",
                       "defaults.retry.jitter: must be between 0 and 1"));
  BOOST_TEST(has_error(R"({"defaults": {"retry": {"initial_interval_ms": 50, "max_interval_ms": 10}}, "sagas": {}})",
                       "defaults.retry.max_interval_ms: must be at least initial_interval_ms"));
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": [{"parallel": [
                         {"name": "a", "action": {"kind": "simulate"}, "retry": {"backoff": 0.5}}]}]}}})",
                       "sagas.s.steps[0].parallel[0].retry.backoff: must be between 1 and 1000"));
}

BOOST_AUTO_TEST_CASE(settings_left_out_follow_the_values_they_depend_on) {
  auto r = parse_workflow(R"({"breakers": {"pay": {"open_ms": 600000}},
                              "sagas": {"s": {"steps": [{"name": "a", "resource": "pay",
                                                         "action": {"kind": "simulate"},
                                                         "retry": {"initial_interval_ms": 20000}}]}}})",
                          "wf.json");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? std::string{} : r.errors[0].to_string()));
  BOOST_TEST(r.value->breakers.at("pay").max_open_ms == 600000u);
  BOOST_TEST(r.value->sagas.at("s").steps[0].retry.max_interval_ms == 20000u);
  BOOST_TEST(has_error(R"({"breakers": {"pay": {"open_ms": 600000, "max_open_ms": 1000}},
                           "sagas": {"s": {"steps": [{"name": "a", "resource": "pay",
                                                      "action": {"kind": "simulate"}}]}}})",
                       "breakers.pay.max_open_ms: must be at least open_ms (600000), got 1000"));
  // A cap written in the defaults holds for the steps: the step's interval is named.
  BOOST_TEST(has_error(R"({"defaults": {"retry": {"max_interval_ms": 5000}},
                           "sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"},
                                                      "retry": {"initial_interval_ms": 9000}}]}}})",
                       "sagas.s.steps[0].retry.initial_interval_ms: must be at most max_interval_ms "
                       "(5000, set at defaults.retry.max_interval_ms), got 9000"));
}

BOOST_AUTO_TEST_CASE(a_step_name_used_twice_is_refused) {
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": [
                         {"name": "a", "action": {"kind": "simulate"}},
                         {"parallel": [{"name": "a", "action": {"kind": "simulate"}}]}]}}})",
                       "sagas.s.steps[1].parallel[0].name: step name \"a\" is used twice"));
}

BOOST_AUTO_TEST_CASE(a_breaker_no_step_uses_is_refused) {
  BOOST_TEST(has_error(R"({"breakers": {"payments": {}},
                           "sagas": {"s": {"steps": [{"name": "a", "resource": "stock",
                                                      "action": {"kind": "simulate"}}]}}})",
                       "breakers.payments: no step uses resource \"payments\""));
}

BOOST_AUTO_TEST_CASE(an_unsupported_action_kind_is_refused) {
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "teleport"}}]}}})",
                       "sagas.s.steps[0].action.kind: unknown value \"teleport\""));
}

BOOST_AUTO_TEST_CASE(sleep_and_wait_actions_load_and_a_wait_is_tried_once_unless_its_retry_says) {
  auto r = parse_workflow(R"({"sagas": {"s": {"steps": [
    {"name": "a", "action": {"kind": "sleep", "ms": 60000},
     "compensate": {"kind": "sleep", "until": "/input/undo_at"}},
    {"name": "b", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 86400000}},
    {"name": "c", "action": {"kind": "wait", "signal": "shipped"}, "retry": {"max_attempts": 3}}]}}})",
                          "wf.json");
  for (auto& e : r.errors)
    BOOST_TEST_MESSAGE(e.to_string());
  BOOST_REQUIRE(r.ok());
  auto& steps = r.value->sagas.at("s").steps;
  BOOST_TEST((steps[0].action.kind == action_kind::sleep));
  BOOST_TEST(steps[0].action.sleep.ms == 60000u);
  BOOST_TEST(steps[0].compensate->sleep.until == "/input/undo_at");
  BOOST_TEST(steps[0].action.waits());
  BOOST_TEST(!steps[0].action.blocks());
  BOOST_TEST(steps[1].action.wait.signal == "paid");
  BOOST_TEST(steps[1].action.wait.timeout_ms == 86400000u);
  BOOST_TEST(steps[1].retry.max_attempts == 1u);
  BOOST_TEST(steps[2].action.wait.timeout_ms == 0u);
  BOOST_TEST(steps[2].retry.max_attempts == 3u);
}

BOOST_AUTO_TEST_CASE(bad_sleep_and_wait_actions_are_refused_naming_the_key) {
  auto wf = [](const std::string& step) {
    return R"({"sagas": {"s": {"steps": [)" + step + "]}}}";
  };
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "sleep"}})"),
                       "sagas.s.steps[0].action: missing: a sleep action needs ms or until"));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "sleep", "ms": 1, "until": "/x"}})"),
                       "a sleep action takes ms or until, not both"));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "sleep", "until": "input.at"}})"),
                       "sagas.s.steps[0].action.until: must be a JSON Pointer"));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "wait"}})"),
                       "sagas.s.steps[0].action.signal: missing: a wait action names the signal"));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "wait", "signal": "a b"}})"),
                       "invalid signal name \"a b\""));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "simulate"},
                              "compensate": {"kind": "wait", "signal": "x"}})"),
                       "sagas.s.steps[0].compensate.kind: a compensation cannot wait for a signal"));
  BOOST_TEST(has_error(wf(R"({"name": "a", "action": {"kind": "wait", "signal": "x", "ms": 5}})"),
                       "sagas.s.steps[0].action.ms"));
}

BOOST_AUTO_TEST_CASE(exec_http_and_handler_actions_load_with_their_keys) {
  auto r = parse_workflow(R"({"sagas": {"s": {"steps": [
    {"name": "a", "concurrency": 4,
     "action": {"kind": "exec", "argv": ["bin/reserve", "--fast"], "env": {"REGION": "eu"},
                "max_output_bytes": 4096},
     "compensate": {"kind": "http", "url": "http://127.0.0.1:8080/release",
                    "headers": {"Authorization": "Bearer x"}, "retry": {"max_attempts": 0}}},
    {"name": "b", "action": {"kind": "handler", "name": "pricing"}}]}}})",
                          "wf.json");
  for (auto& e : r.errors)
    BOOST_TEST_MESSAGE(e.to_string());
  BOOST_REQUIRE(r.ok());
  auto& a = r.value->sagas.at("s").steps.at(0);
  BOOST_TEST((a.action.kind == action_kind::exec));
  BOOST_TEST(a.action.exec.argv == (std::vector<std::string>{"bin/reserve", "--fast"}));
  BOOST_TEST(a.action.exec.env.at("REGION") == "eu");
  BOOST_TEST(a.action.exec.max_output_bytes == 4096u);
  BOOST_TEST(a.concurrency == 4u);
  BOOST_TEST((a.compensate->kind == action_kind::http));
  BOOST_TEST(a.compensate->http.headers.at("Authorization") == "Bearer x");
  BOOST_TEST(a.compensate_retry.max_attempts == 0u);
  BOOST_TEST(a.retry.max_attempts == 3u); // the action keeps the defaults
  BOOST_TEST(r.value->sagas.at("s").steps.at(1).action.handler == "pricing");
}

BOOST_AUTO_TEST_CASE(bad_exec_http_and_handler_actions_name_the_key) {
  auto step = [](const std::string& action) {
    return R"({"sagas": {"s": {"steps": [{"name": "a", "action": )" + action + "}]}}}";
  };
  BOOST_TEST(has_error(step(R"({"kind": "exec"})"), "sagas.s.steps[0].action.argv: missing"));
  BOOST_TEST(has_error(step(R"({"kind": "exec", "argv": []})"),
                       "sagas.s.steps[0].action.argv: must name at least the program"));
  BOOST_TEST(has_error(step(R"({"kind": "exec", "argv": ["x", 3]})"), "sagas.s.steps[0].action.argv[1]"));
  BOOST_TEST(has_error(step(R"({"kind": "exec", "argv": ["x"], "env": {"A=B": "c"}})"),
                       "action.env.A=B: not a valid environment variable name"));
  BOOST_TEST(has_error(step(R"({"kind": "exec", "argv": ["x"], "url": "http://a"})"),
                       "sagas.s.steps[0].action.url: unknown key"));
  BOOST_TEST(has_error(step(R"({"kind": "http", "url": "ftp://a"})"),
                       "sagas.s.steps[0].action.url: must start with http:// or https://"));
  BOOST_TEST(has_error(step(R"({"kind": "http", "url": "http://a", "headers": {"X": "a\nb"}})"),
                       "action.headers.X: contains a line break"));
  BOOST_TEST(has_error(step(R"({"kind": "handler"})"), "sagas.s.steps[0].action.name: missing"));
  BOOST_TEST(has_error(step(R"({"kind": "simulate", "retry": {}})"),
                       "sagas.s.steps[0].action.retry: unknown key")); // only a compensation has one
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"},
      "compensate": {"kind": "simulate", "retry": {"backoff": 0.5}}}]}}})",
                       "sagas.s.steps[0].compensate.retry.backoff"));
}

BOOST_AUTO_TEST_CASE(missing_sagas_and_steps_are_refused) {
  BOOST_TEST(has_error("{}", "sagas: missing"));
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": []}}})", "sagas.s.steps: a saga needs at least one step"));
  BOOST_TEST(has_error(R"({"sagas": {"s": {"steps": [{"action": {"kind": "simulate"}}]}}})",
                       "sagas.s.steps[0].name: missing"));
}

BOOST_AUTO_TEST_CASE(invalid_json_names_the_line) {
  auto errs = errors_of("{\n\"sagas\": {\n\"s\": [1, 2,]\n}}");
  BOOST_REQUIRE_EQUAL(errs.size(), 1u);
  BOOST_TEST(errs[0].find("wf.json:") == 0);
  BOOST_TEST(errs[0].find("invalid JSON") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused) {
  BOOST_TEST(has_error(R"({"sagas": {}, "sagas": {}})", "duplicate key \"sagas\""));
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_reported) {
  auto r = load_workflow("/nonexistent/wf.json");
  BOOST_REQUIRE_EQUAL(r.errors.size(), 1u);
  BOOST_TEST(r.errors[0].to_string().find("/nonexistent/wf.json: cannot open") == 0);
}

BOOST_AUTO_TEST_CASE(cluster_settings_are_checked_with_their_paths) {
  auto ok = parse_workflow(R"({"cluster": {"name": "prod-eu", "token": "s3cret"},
    "sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})", "wf.json");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok.value->cluster.name == "prod-eu");
  BOOST_TEST(ok.value->cluster.token == "s3cret");
  BOOST_TEST(!ok.value->cluster.tls.on());
  BOOST_TEST(has_error(R"({"cluster": {"name": "a b"}, "sagas": {}})", "cluster.name: must be 1 to 64"));
  BOOST_TEST(has_error(R"({"cluster": {"tls": {"certificate": "/nonexistent/c.pem"}}, "sagas": {}})",
                       "cluster.tls.certificate: cannot read the file /nonexistent/c.pem"));
  BOOST_TEST(has_error(R"({"cluster": {"tls": {"certificate": "/nonexistent/c.pem"}}, "sagas": {}})",
                       "cluster.tls.key: missing: mutual TLS needs certificate, key and ca"));
  BOOST_TEST(has_error(R"({"cluster": {"tls": {"cert": "x"}}, "sagas": {}})",
                       "cluster.tls.cert: unknown key"));
}

BOOST_AUTO_TEST_CASE(replicated_coordinators_settings_are_checked_with_their_paths) {
  auto ok = parse_workflow(R"({"cluster": {"ha": {"etcd": ["http://127.0.0.1:2379",
                                                          "http://127.0.0.1:22379"],
                                                  "lease_ms": 2000, "min_replicas": 2}},
    "sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})", "wf.json");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok.value->cluster.ha.on());
  BOOST_TEST(ok.value->cluster.ha.etcd.size() == 2u);
  BOOST_TEST(ok.value->cluster.ha.lease_ms == 2000u);
  BOOST_TEST(ok.value->cluster.ha.min_replicas == 2u);
  auto plain = parse_workflow(R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})",
                              "wf.json");
  BOOST_REQUIRE(plain.ok());
  BOOST_TEST(!plain.value->cluster.ha.on());
  BOOST_TEST(plain.value->cluster.ha.lease_ms == 3000u);
  BOOST_TEST(plain.value->cluster.ha.min_replicas == 1u);
  BOOST_TEST(has_error(R"({"cluster": {"ha": {}}, "sagas": {}})",
                       "cluster.ha.etcd: missing: replicated coordinators need etcd's client URLs"));
  BOOST_TEST(has_error(R"({"cluster": {"ha": {"etcd": []}}, "sagas": {}})",
                       "cluster.ha.etcd: must name at least one etcd client URL"));
  BOOST_TEST(has_error(R"({"cluster": {"ha": {"etcd": ["127.0.0.1:2379"]}}, "sagas": {}})",
                       "cluster.ha.etcd[0]: expected an http:// URL"));
  BOOST_TEST(has_error(R"({"cluster": {"ha": {"etcd": ["http://e:2379"], "lease_ms": 500}}, "sagas": {}})",
                       "cluster.ha.lease_ms"));
  BOOST_TEST(has_error(R"({"cluster": {"ha": {"etcd": ["http://e:2379"], "min_replicas": 0}}, "sagas": {}})",
                       "cluster.ha.min_replicas"));
  BOOST_TEST(has_error(R"({"cluster": {"ha": {"etcd": ["http://e:2379"], "leader": "x"}}, "sagas": {}})",
                       "cluster.ha.leader: unknown key"));
}

BOOST_AUTO_TEST_CASE(tracing_settings_are_checked_with_their_paths) {
  auto ok = parse_workflow(R"({"tracing": {"otlp_endpoint": "http://127.0.0.1:4318/v1/traces",
                                           "service_name": "orders", "flush_ms": 200},
    "sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})", "wf.json");
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok.value->tracing.otlp_endpoint == "http://127.0.0.1:4318/v1/traces");
  BOOST_TEST(ok.value->tracing.service_name == "orders");
  BOOST_TEST(ok.value->tracing.flush_ms == 200u);
  BOOST_TEST(ok.value->tracing.queue_size == 8192u); // the default
  BOOST_TEST(has_error(R"({"tracing": {"otlp_endpoint": "127.0.0.1:4318"}, "sagas": {}})",
                       "tracing.otlp_endpoint: expected an http:// or https:// URL"));
  BOOST_TEST(has_error(R"({"tracing": {"queue_size": 0}, "sagas": {}})", "tracing.queue_size"));
  BOOST_TEST(has_error(R"({"tracing": {"endpoint": "x"}, "sagas": {}})",
                       "tracing.endpoint: unknown key"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace config_workflow_loader_test
