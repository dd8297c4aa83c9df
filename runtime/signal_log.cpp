#include "runtime/signal_log.hpp"

#include "config/json_writer.hpp"
#include "storage/event_log.hpp"

namespace nexus::runtime {

std::string signal_tool_arguments(const saga_signal& s) {
  std::string out;
  config::json_object_writer w{out};
  w.field("correlation_id", s.cid).field("signal", s.name);
  if (!s.data.empty())
    w.raw_field("data", s.data);
  if (!s.id.empty())
    w.field("signal_id", s.id);
  w.finish();
  return out;
}

signal_result plan_logged_signal(const storage::event_log& log, const saga_signal& s,
                                 std::int64_t now_us, storage::append_request& out,
                                 std::string& detail) {
  storage::status st = storage::status::ok();
  auto row = log.find_saga(s.cid, st);
  if (!st) {
    detail = st.message();
    return signal_result::failed;
  }
  if (!row)
    return signal_result::unknown;
  std::uint64_t last = 0;
  bool seen = false, ended = storage::is_terminal(row->status);
  st = log.read_events(s.cid, 1, UINT64_MAX, [&](const storage::event& e) {
    last = e.seq;
    seen = seen
           || (!s.id.empty() && e.type == storage::event_type::signal_received && e.signal_id == s.id);
    ended = ended || storage::is_terminal(e.type); // its row may lag behind its events
    return true;
  });
  if (!st || last == 0) {
    detail = st ? "its events cannot be found" : st.message();
    return signal_result::failed;
  }
  // A sender that retries after the saga ended is told it was received.
  if (seen)
    return signal_result::duplicate;
  if (ended) {
    detail = storage::is_terminal(row->status) ? std::string{storage::to_string(row->status)} : "";
    return signal_result::ended;
  }
  storage::event e;
  e.seq = last + 1;
  e.ts_us = now_us;
  e.cid = s.cid;
  e.type = storage::event_type::signal_received;
  e.saga = row->saga;
  e.signal = s.name;
  e.signal_id = s.id;
  e.data = s.data;
  out = {};
  out.cid = s.cid;
  std::string json;
  storage::encode_event(e, json);
  out.events.emplace_back(e.seq, std::move(json));
  if (row->parked) {
    // Back out of the timer index: the run that opens the log next resumes
    // it, and its wait finds the signal.
    out.row = *row;
    out.row->parked = false;
    out.row->wake_us = 0;
    out.row->updated_us = now_us;
    if (row->wake_us != 0)
      out.timer_clear = row->wake_us;
  }
  return signal_result::stored;
}

} // namespace nexus::runtime
