#include "runtime/saga_progress.hpp"

#include <limits>

namespace nexus::runtime {

void advance_progress(storage::saga_row& row, const storage::event& e) {
  row.last_seq = e.seq;
  row.updated_us = e.ts_us;
  if (e.type == storage::event_type::step_succeeded)
    ++row.steps_done;
  else if (e.type == storage::event_type::compensation_succeeded && row.steps_done > 0)
    --row.steps_done;
}

storage::status live_progress(const storage::event_log& log, std::string_view cid,
                              storage::saga_row& row,
                              const std::function<void(const storage::event&)>& also) {
  row.steps_done = 0;
  return log.read_events(cid, 1, std::numeric_limits<std::uint64_t>::max(),
                         [&](const storage::event& e) {
                           advance_progress(row, e);
                           if (also)
                             also(e);
                           return true;
                         });
}

} // namespace nexus::runtime
