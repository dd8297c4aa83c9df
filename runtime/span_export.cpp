#include "runtime/span_export.hpp"

#include <chrono>
#include <memory>

#include <curl/curl.h>

#include "config/json_writer.hpp"
#include "config/trace_context.hpp"
#include "runtime/curl_handles.hpp"
#include "runtime/logging.hpp"

namespace nexus::runtime {

namespace {

void attribute(std::string& out, const char* key, const std::string& value) {
  if (value.empty())
    return;
  out += out.back() == '[' ? "" : ",";
  out += R"({"key":")";
  out += key;
  out += R"(","value":{"stringValue":)";
  config::append_json_string(out, value);
  out += "}}";
}

void int_attribute(std::string& out, const char* key, std::uint64_t value) {
  out += out.back() == '[' ? "" : ",";
  out += R"({"key":")";
  out += key;
  out += R"(","value":{"intValue":")" + std::to_string(value) + "\"}}";
}

std::string nanos(std::int64_t us) {
  return std::to_string(static_cast<std::uint64_t>(us < 0 ? 0 : us) * 1000);
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) {
  return size * n;
}


} // namespace

std::string otlp_json(const std::vector<span_record>& spans, const std::string& service) {
  std::string out = R"({"resourceSpans":[{"resource":{"attributes":[)";
  attribute(out, "service.name", service);
  out += R"(]},"scopeSpans":[{"scope":{"name":"nexus"},"spans":[)";
  bool first = true;
  for (auto& s : spans) {
    config::trace_context t;
    t.trace = s.trace;
    out += first ? "{" : ",{";
    first = false;
    out += R"("traceId":")" + t.trace_hex() + R"(","spanId":")" + config::span_hex(s.span) + "\"";
    if (s.parent != 0)
      out += R"(,"parentSpanId":")" + config::span_hex(s.parent) + "\"";
    out += R"(,"name":)";
    config::append_json_string(out, s.name);
    // SPAN_KIND_INTERNAL for a saga, SPAN_KIND_CLIENT for an attempt (it calls out).
    out += s.step.empty() ? R"(,"kind":1)" : R"(,"kind":3)";
    out += R"(,"startTimeUnixNano":")" + nanos(s.start_us) + R"(","endTimeUnixNano":")"
           + nanos(s.end_us) + R"(","attributes":[)";
    attribute(out, "nexus.correlation_id", s.cid);
    attribute(out, "nexus.saga", s.saga);
    attribute(out, "nexus.step", s.step);
    if (s.attempt > 0)
      int_attribute(out, "nexus.attempt", s.attempt);
    if (s.compensation)
      out += R"(,{"key":"nexus.compensation","value":{"boolValue":true}})";
    attribute(out, "nexus.outcome", s.outcome);
    out += R"(],"status":{"code":)";
    out += s.error ? "2" : "1";
    if (!s.message.empty()) {
      out += R"(,"message":)";
      config::append_json_string(out, s.message);
    }
    out += "}}";
  }
  out += "]}]}]}";
  return out;
}

span_exporter::span_exporter(const config::tracing_settings& settings, trace_meters* counts)
  : settings_(settings), counts_(counts) {
  thread_ = std::thread([this] { run(); });
}

span_exporter::~span_exporter() {
  {
    std::lock_guard<std::mutex> hold{lock_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void span_exporter::submit(span_record span) {
  {
    std::lock_guard<std::mutex> hold{lock_};
    if (queue_.size() >= settings_.queue_size) {
      if (counts_)
        counts_->dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    if (queue_.size() < settings_.batch_size)
      return;
  }
  wake_.notify_one(); // a full batch goes at once
}

void span_exporter::run() {
  std::vector<span_record> batch;
  std::unique_lock<std::mutex> hold{lock_};
  for (;;) {
    wake_.wait_for(hold, std::chrono::milliseconds(settings_.flush_ms),
                   [this] { return stopping_ || queue_.size() >= settings_.batch_size; });
    bool last = stopping_;
    while (!queue_.empty()) {
      auto n = std::min<std::size_t>(queue_.size(), settings_.batch_size);
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      hold.unlock(); // the queue takes spans while a batch is on its way
      send(batch);
      hold.lock();
      if (!last && queue_.size() < settings_.batch_size)
        break; // the rest waits for its flush time
    }
    if (last)
      return;
  }
}

void span_exporter::send(std::vector<span_record>& batch) {
  auto body = otlp_json(batch, settings_.service_name);
  curl_easy_handle h{curl_easy_init()};
  long code = 0;
  CURLcode rc = CURLE_FAILED_INIT;
  if (h) {
    curl_header_list headers{
      curl_slist_append(nullptr, "Content-Type: application/json")};
    curl_easy_setopt(h.get(), CURLOPT_URL, settings_.otlp_endpoint.c_str());
    curl_easy_setopt(h.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout_ms));
    curl_easy_setopt(h.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(h.get());
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &code);
  }
  bool ok = rc == CURLE_OK && code >= 200 && code < 300;
  if (counts_)
    (ok ? counts_->exported : counts_->dropped).fetch_add(batch.size(), std::memory_order_relaxed);
  if (!ok)
    runtime::log(spdlog::level::warn, {},
                 "{} spans not exported to {}: {}", batch.size(), settings_.otlp_endpoint,
                 rc != CURLE_OK ? std::string{curl_easy_strerror(rc)}
                                : "the collector answered " + std::to_string(code));
  batch.clear();
}

} // namespace nexus::runtime
