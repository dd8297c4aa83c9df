#include "runtime/breaker_log.hpp"

#include "storage/event.hpp"

namespace nexus::runtime {

namespace {

storage::event_type event_for(breaker_state to) {
  switch (to) {
    case breaker_state::open:
    case breaker_state::forced_open:
      return storage::event_type::breaker_opened;
    case breaker_state::half_open:
      return storage::event_type::breaker_half_open;
    case breaker_state::closed:
    case breaker_state::disabled:
      break;
  }
  return storage::event_type::breaker_closed;
}

constexpr breaker_state all_states[] = {breaker_state::closed, breaker_state::open,
                                        breaker_state::half_open, breaker_state::forced_open,
                                        breaker_state::disabled};

} // namespace

std::string describe(const breaker_transition& t) {
  return std::string{to_string(t.from)} + " -> " + std::string{to_string(t.to)} + ": " + t.reason;
}

std::optional<breaker_state> parse_breaker_state(std::string_view text) {
  for (auto s : all_states)
    if (to_string(s) == text)
      return s;
  return std::nullopt;
}

breaker_log::breaker_log(std::string resource, std::uint64_t last_seq)
  : resource_(std::move(resource)), cid_(storage::breaker_cid(resource_)), last_seq_(last_seq) {
}

storage::breaker_row breaker_log::row(const circuit_breaker& m, std::int64_t now_us) const {
  auto f = m.figures(now_us);
  storage::breaker_row row;
  row.state = std::string{to_string(m.state())};
  row.last_seq = last_seq_;
  row.updated_us = now_us;
  row.open_until_us = m.state() == breaker_state::open ? m.open_until_us() : 0;
  row.reopens = m.reopens();
  row.calls = f.calls;
  row.failed_calls = f.failed;
  row.slow_calls = f.slow;
  row.failure_rate = f.failure_rate;
  row.slow_call_rate = f.slow_call_rate;
  return row;
}

std::optional<storage::append_request>
breaker_log::transitions(const std::vector<breaker_transition>& ts, const circuit_breaker& m,
                         std::int64_t now_us) {
  if (ts.empty())
    return std::nullopt;
  storage::append_request req;
  req.cid = cid_;
  for (auto& t : ts) {
    storage::event e;
    e.seq = ++last_seq_;
    e.ts_us = now_us;
    e.cid = cid_;
    e.type = event_for(t.to);
    e.message = describe(t);
    e.failure_rate = t.figures.failure_rate;
    e.slow_call_rate = t.figures.slow_call_rate;
    e.calls = t.figures.calls;
    e.retry_at_us = t.open_until_us;
    std::string json;
    storage::encode_event(e, json);
    req.events.emplace_back(e.seq, std::move(json));
  }
  req.breaker = row(m, now_us);
  return req;
}

storage::append_request breaker_log::figures(const circuit_breaker& m, std::int64_t now_us) const {
  storage::append_request req;
  req.cid = cid_;
  req.breaker = row(m, now_us);
  return req;
}

} // namespace nexus::runtime
