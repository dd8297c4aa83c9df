#include "config/definition.hpp"

#include <cstdio>

#include <openssl/evp.h>

#include "config/json_writer.hpp"
#include "config/workflow_loader.hpp"

namespace nexus::config {

namespace {

/// Exact: a definition read back must behave as the one written.
std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (auto& s : items) {
    if (out.size() > 1)
      out += ',';
    append_json_string(out, s);
  }
  return out + "]";
}

std::string string_map(const std::map<std::string, std::string>& m) {
  std::string out;
  json_object_writer w{out};
  for (auto& [k, v] : m)
    w.field(k, v);
  w.finish();
  return out;
}

std::string retry_json(const retry_policy& r) {
  std::vector<std::string> kinds;
  for (auto k : r.non_retryable)
    kinds.emplace_back(to_string(k));
  std::string out;
  json_object_writer w{out};
  w.field("max_attempts", static_cast<std::uint64_t>(r.max_attempts))
    .field("initial_interval_ms", r.initial_interval_ms)
    .raw_field("backoff", number(r.backoff))
    .field("max_interval_ms", r.max_interval_ms)
    .raw_field("jitter", number(r.jitter))
    .raw_field("non_retryable", string_array(kinds));
  w.finish();
  return out;
}

/// An action, with `retry` (a compensation's own policy) when given.
std::string action_json(const action_spec& a, const retry_policy* retry) {
  std::string out;
  json_object_writer w{out};
  w.field("kind", to_string(a.kind));
  switch (a.kind) {
    case action_kind::simulate:
      w.field("latency_ms", a.simulate.latency_ms)
        .field("cpu_ms", a.simulate.cpu_ms)
        .raw_field("fail_rate", number(a.simulate.fail_rate))
        .field("fail_first", static_cast<std::uint64_t>(a.simulate.fail_first))
        .field("fail_kind", to_string(a.simulate.fail_kind))
        .field("seed", a.simulate.seed);
      break;
    case action_kind::exec:
      w.raw_field("argv", string_array(a.exec.argv))
        .raw_field("env", string_map(a.exec.env))
        .field("max_output_bytes", a.exec.max_output_bytes);
      break;
    case action_kind::http:
      w.field("url", a.http.url)
        .raw_field("headers", string_map(a.http.headers))
        .field("max_output_bytes", a.http.max_output_bytes);
      break;
    case action_kind::handler:
      w.field("name", a.handler);
      break;
    case action_kind::sleep:
      if (a.sleep.until.empty())
        w.field("ms", a.sleep.ms);
      else
        w.field("until", a.sleep.until);
      break;
    case action_kind::wait:
      w.field("signal", a.wait.signal).field("timeout_ms", a.wait.timeout_ms);
      break;
  }
  if (retry != nullptr)
    w.raw_field("retry", retry_json(*retry));
  w.finish();
  return out;
}

std::string step_json(const step_spec& s) {
  std::string out;
  json_object_writer w{out};
  w.field("name", s.name);
  if (!s.resource.empty())
    w.field("resource", s.resource);
  w.field("timeout_ms", s.timeout_ms)
    .raw_field("action", action_json(s.action, nullptr))
    .raw_field("retry", retry_json(s.retry));
  if (s.compensate)
    w.raw_field("compensate", action_json(*s.compensate, &s.compensate_retry));
  w.finish();
  return out;
}

} // namespace

std::string forward_json(const step_spec& s) {
  std::string out;
  json_object_writer w{out};
  w.field("resource", s.resource)
    .field("timeout_ms", s.timeout_ms)
    .raw_field("action", action_json(s.action, nullptr))
    .raw_field("retry", retry_json(s.retry));
  w.finish();
  return out;
}

std::string compensation_json(const step_spec& s) {
  if (!s.compensate)
    return {};
  std::string out;
  json_object_writer w{out};
  w.field("resource", s.resource)
    .field("timeout_ms", s.timeout_ms)
    .raw_field("compensate", action_json(*s.compensate, &s.compensate_retry));
  w.finish();
  return out;
}

std::string definition_json(const saga_spec& saga) {
  std::string steps = "[";
  for (auto& g : saga.groups) {
    if (steps.size() > 1)
      steps += ',';
    if (g.count == 1) {
      steps += step_json(saga.steps[g.first]);
      continue;
    }
    steps += "{\"parallel\":[";
    for (auto i = g.first; i < g.first + g.count; ++i) {
      if (i > g.first)
        steps += ',';
      steps += step_json(saga.steps[i]);
    }
    steps += "]}";
  }
  steps += ']';
  std::string out;
  json_object_writer w{out};
  w.field("deadline_ms", saga.deadline_ms).raw_field("steps", steps);
  w.finish();
  return out;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

std::uint64_t definition_id(std::string_view hash) {
  if (hash.size() < 16)
    return 0;
  std::uint64_t id = 0;
  for (char c : hash.substr(0, 16)) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0)
      return 0;
    id = id << 4 | static_cast<std::uint64_t>(d);
  }
  return id;
}

std::string definition_hash(const std::string& name, std::string_view json) {
  std::string text = name;
  text += ':';
  text += json;
  return sha256_hex(text);
}

void stamp_definition(saga_spec& saga) {
  saga.hash = definition_hash(saga.name, definition_json(saga));
  saga.id = definition_id(saga.hash);
}

std::optional<saga_spec> parse_definition(std::string_view json, const std::string& name,
                                          std::string_view hash, std::string& error) {
  std::string file = "{\"sagas\":{";
  append_json_string(file, name);
  file += ':';
  file += json;
  file += "}}";
  auto loaded = parse_workflow(file, "definition " + std::string{short_hash(hash)});
  if (!loaded.ok()) {
    error = loaded.errors.front().to_string();
    return std::nullopt;
  }
  auto saga = std::move(loaded.value->sagas.at(name));
  if (saga.hash != hash) {
    error = "definition " + std::string{short_hash(hash)} + " of saga " + name
            + " does not hash to its key (" + std::string{short_hash(saga.hash)} + ")";
    return std::nullopt;
  }
  return saga;
}

} // namespace nexus::config
