#include <memory>
#include <mutex>
#include <string>

#include <curl/curl.h>

#include "config/json_writer.hpp"
#include "runtime/curl_handles.hpp"
#include "runtime/executors.hpp"

namespace nexus::runtime {

namespace {

/// One handle per worker thread: reset between requests, it keeps its
/// connections open, so a stage calling one service reuses them.
CURL* thread_handle() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_local curl_easy_handle handle{curl_easy_init()};
  if (handle)
    curl_easy_reset(handle.get());
  return handle.get();
}

struct body {
  std::string text;
  std::uint64_t max = 0;
  bool overflow = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto& b = *static_cast<body*>(user);
  auto n = size * count;
  if (b.text.size() + n > b.max) {
    b.overflow = true;
    return 0; // makes curl stop with CURLE_WRITE_ERROR
  }
  b.text.append(data, n);
  return n;
}

/// A body for a failure message: short, on one line.
std::string snippet(const std::string& text) {
  std::string s = text.substr(0, 200);
  for (auto& ch : s)
    if (ch == '\n' || ch == '\r')
      ch = ' ';
  return s.empty() ? s : ": " + s + (text.size() > 200 ? "..." : "");
}

bool transient_status(long code) {
  return code == 408 || code == 429 || code >= 500;
}

} // namespace

outcome run_http(const config::http_action& a, const step_context& c) {
  CURL* h = thread_handle();
  if (h == nullptr)
    return outcome::failure(config::error_kind::transient, "cannot start an HTTP client");
  curl_header_list headers;
  auto add = [&headers](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  add("Content-Type: application/json");
  add("Accept: application/json");
  add("Idempotency-Key: " + c.idempotency_key);
  add("X-Correlation-ID: " + c.cid);
  if (!c.traceparent.empty())
    add("traceparent: " + c.traceparent);
  if (!c.tracestate.empty())
    add("tracestate: " + c.tracestate);
  add("Expect:"); // no 100-continue round trip for larger bodies
  for (auto& [k, v] : a.headers)
    add(k + ": " + v);
  body b;
  b.max = a.max_output_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, a.url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, c.input.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.input.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<std::int64_t>(1, c.timeout_ms)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "nexus/0.1");
  auto rc = curl_easy_perform(h);
  if (b.overflow)
    return outcome::failure(config::error_kind::permanent,
                            a.url + ": response body over " + std::to_string(a.max_output_bytes)
                              + " bytes (max_output_bytes)");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return outcome::failure(config::error_kind::timeout,
                            a.url + ": no response within " + std::to_string(c.timeout_ms) + " ms");
  if (rc != CURLE_OK)
    return outcome::failure(config::error_kind::transient,
                            a.url + ": " + (error[0] != 0 ? error : curl_easy_strerror(rc)));
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) {
    std::string why;
    if (output_json(b.text, why))
      return outcome::success(std::move(b.text));
    // Not JSON: kept as a JSON string, so that later steps still see it.
    std::string quoted;
    config::append_json_string(quoted, b.text);
    return outcome::success(std::move(quoted));
  }
  auto kind = transient_status(code) ? config::error_kind::transient : config::error_kind::permanent;
  return outcome::failure(kind, a.url + ": HTTP " + std::to_string(code) + snippet(b.text));
}

} // namespace nexus::runtime
