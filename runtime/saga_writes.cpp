#include "runtime/saga_writes.hpp"

namespace nexus::runtime {

using storage::event_type;

storage::append_request make_append(const saga_machine& m, const transition& t) {
  storage::append_request req;
  req.cid = m.cid();
  req.events.reserve(t.events.size());
  for (auto& e : t.events) {
    std::string json;
    json.reserve(384); // most events fit: one allocation, not a growth per field
    storage::encode_event(e, json);
    req.events.emplace_back(e.seq, std::move(json));
  }
  bool status_changed = false;
  for (auto& e : t.events)
    status_changed = status_changed || e.type == event_type::saga_started
                     || e.type == event_type::compensation_started
                     || e.type == event_type::retry_requested
                     || e.type == event_type::definition_changed || storage::is_terminal(e.type);
  if (status_changed)
    req.row = m.row(t.events.back().ts_us);
  return req;
}

bool waits_long(const saga_machine& m, std::int64_t now_us, std::int64_t passivate_after_us) {
  auto due = m.idle_until();
  return due && (*due == saga_machine::never || *due - now_us > passivate_after_us);
}

void record_parking(const saga_machine& m, std::optional<std::int64_t> idle_before, bool park,
                    std::int64_t now_us, storage::append_request& req) {
  if (!idle_before && !park)
    return;
  req.row = m.row(now_us);
  if (idle_before && *idle_before != saga_machine::never)
    req.timer_clear = *idle_before;
  if (!park)
    return;
  auto due = *m.idle_until();
  req.row->parked = true;
  if (due != saga_machine::never) {
    req.row->wake_us = due;
    req.timer_set = due;
  }
}

} // namespace nexus::runtime
