#pragma once

#include <functional>
#include <string_view>

#include "storage/event.hpp"
#include "storage/event_log.hpp"
#include "storage/saga_row.hpp"

namespace nexus::runtime {

/// A saga's row is written only when its status changes (start,
/// compensating, end); while it runs, its figures are read from its events.
/// One event into `row`: its last event and that event's time, and the
/// steps done (a succeeded step counts, a succeeded compensation undoes it).
void advance_progress(storage::saga_row& row, const storage::event& e);

/// Brings `row` of a saga still running up to date from its events
/// (last_seq, updated_us, steps_done), streaming them; `also`, when given,
/// sees each event too, so that a caller folds more in the same read.
storage::status live_progress(const storage::event_log& log, std::string_view cid,
                              storage::saga_row& row,
                              const std::function<void(const storage::event&)>& also = {});

} // namespace nexus::runtime
