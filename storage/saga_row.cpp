#include "storage/saga_row.hpp"

#include <simdjson.h>

#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::storage {

void encode_saga_row(const saga_row& row, std::string& out) {
  config::json_object_writer w{out};
  w.field("saga", row.saga);
  if (!row.definition.empty())
    w.field("definition", row.definition);
  w.field("status", to_string(row.status))
    .field("last_seq", row.last_seq)
    .field("started", format_timestamp(row.started_us))
    .field("updated", format_timestamp(row.updated_us))
    .field("steps_done", static_cast<std::uint64_t>(row.steps_done))
    .field("steps_total", static_cast<std::uint64_t>(row.steps_total));
  if (row.expired)
    w.field("expired", true);
  if (row.parked) {
    w.field("parked", true);
    if (row.wake_us != 0)
      w.field("wake", format_timestamp(row.wake_us));
  }
  w.finish();
}

bool decode_saga_row(std::string_view json, saga_row& row, std::string& error) {
  using namespace simdjson;
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc)) {
    error = std::string{"invalid saga row: "} + error_message(err);
    return false;
  }
  std::string_view saga, status, started, updated;
  std::uint64_t done = 0, total = 0;
  if (doc["saga"].get(saga) || doc["status"].get(status) || doc["last_seq"].get(row.last_seq)
      || doc["started"].get(started) || doc["updated"].get(updated)
      || doc["steps_done"].get(done) || doc["steps_total"].get(total)) {
    error = "saga row lacks a field";
    return false;
  }
  auto s = parse_timestamp(started);
  auto u = parse_timestamp(updated);
  if (!s || !u) {
    error = "saga row has a bad timestamp";
    return false;
  }
  auto known = parse_saga_status(status);
  if (!known) {
    error = "saga row has an unknown status \"" + std::string{status} + "\"";
    return false;
  }
  row.saga.assign(saga);
  row.status = *known;
  row.started_us = *s;
  row.updated_us = *u;
  row.steps_done = static_cast<std::uint32_t>(done);
  row.steps_total = static_cast<std::uint32_t>(total);
  row.expired = false;
  row.definition.clear();
  std::string_view definition;
  if (doc["definition"].get(definition) == SUCCESS)
    row.definition.assign(definition);
  bool expired = false;
  if (doc["expired"].get(expired) == SUCCESS)
    row.expired = expired;
  row.parked = false;
  row.wake_us = 0;
  bool parked = false;
  if (doc["parked"].get(parked) == SUCCESS && parked) {
    row.parked = true;
    std::string_view wake;
    if (doc["wake"].get(wake) == SUCCESS) {
      auto w = parse_timestamp(wake);
      if (!w) {
        error = "saga row has a bad wake time";
        return false;
      }
      row.wake_us = *w;
    }
  }
  return true;
}

} // namespace nexus::storage
