#include "storage/breaker_row.hpp"

#include <simdjson.h>

#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

void encode_breaker_row(const breaker_row& row, std::string& out) {
  config::json_object_writer w{out};
  w.field("state", row.state)
    .field("last_seq", row.last_seq)
    .field("updated", format_timestamp(row.updated_us));
  if (row.open_until_us != 0)
    w.field("open_until", format_timestamp(row.open_until_us));
  w.field("reopens", static_cast<std::uint64_t>(row.reopens))
    .field("calls", static_cast<std::uint64_t>(row.calls))
    .field("failed_calls", static_cast<std::uint64_t>(row.failed_calls))
    .field("slow_calls", static_cast<std::uint64_t>(row.slow_calls))
    .field("failure_rate", row.failure_rate)
    .field("slow_call_rate", row.slow_call_rate);
  w.finish();
}

bool decode_breaker_row(std::string_view json, breaker_row& row, std::string& error) {
  using namespace simdjson;
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) {
    error = std::string{"invalid breaker row: "} + error_message(err);
    return false;
  }
  std::string_view state, updated;
  std::uint64_t reopens = 0, calls = 0, failed = 0, slow = 0;
  if (doc["state"].get(state) || doc["last_seq"].get(row.last_seq) || doc["updated"].get(updated)
      || doc["reopens"].get(reopens) || doc["calls"].get(calls) || doc["failed_calls"].get(failed)
      || doc["slow_calls"].get(slow) || doc["failure_rate"].get(row.failure_rate)
      || doc["slow_call_rate"].get(row.slow_call_rate)) {
    error = "breaker row lacks a field";
    return false;
  }
  auto u = parse_timestamp(updated);
  if (!u) {
    error = "breaker row has a bad timestamp";
    return false;
  }
  row.state.assign(state);
  row.updated_us = *u;
  row.open_until_us = 0;
  std::string_view until;
  if (doc["open_until"].get(until) == SUCCESS) {
    auto t = parse_timestamp(until);
    if (!t) {
      error = "breaker row has a bad open_until";
      return false;
    }
    row.open_until_us = *t;
  }
  row.reopens = static_cast<std::uint32_t>(reopens);
  row.calls = static_cast<std::uint32_t>(calls);
  row.failed_calls = static_cast<std::uint32_t>(failed);
  row.slow_calls = static_cast<std::uint32_t>(slow);
  return true;
}

std::string breaker_cid(std::string_view resource) {
  return "breaker:" + std::string{resource};
}

std::optional<std::string_view> breaker_resource(std::string_view cid) {
  constexpr std::string_view prefix = "breaker:";
  if (cid.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  return cid.substr(prefix.size());
}

} // namespace nexus::storage
