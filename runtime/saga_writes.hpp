#pragma once

#include "runtime/saga_machine.hpp"
#include "storage/append_request.hpp"

namespace nexus::runtime {

/// The append that makes `t`'s events durable, with the saga row for the
/// state `m` reached by them when they change its status (start,
/// compensation, end). `t` must hold at least one event.
storage::append_request make_append(const saga_machine& m, const transition& t);

/// Whether saga `m`, idle as it is now, waits long enough to leave memory:
/// it waits for a signal with no time limit, or wakes more than
/// `passivate_after_us` after `now_us`.
bool waits_long(const saga_machine& m, std::int64_t now_us, std::int64_t passivate_after_us);

/// Records in `req` (the append of a transition of `m`, at `now_us`) how the
/// transition moved the saga in or out of the timer index: `idle_before`,
/// its idle_until() before the transition (a value: it may have been
/// parked, so its row is rewritten unparked and its timer cleared), and
/// `park`: it now leaves memory (its row parked, its timer set). The
/// index is always written with the events it follows from, in one batch.
void record_parking(const saga_machine& m, std::optional<std::int64_t> idle_before, bool park,
                    std::int64_t now_us, storage::append_request& req);

} // namespace nexus::runtime
