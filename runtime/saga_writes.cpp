#include "runtime/saga_writes.hpp"

namespace nexus::runtime {

using storage::event_type;

storage::append_request make_append(const saga_machine& m, const transition& t) {
  storage::append_request req;
  req.cid = m.cid();
  req.events.reserve(t.events.size());
  for (auto& e : t.events) {
    std::string json;
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

} // namespace nexus::runtime
