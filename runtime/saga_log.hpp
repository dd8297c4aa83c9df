#pragma once

#include <vector>

#include "storage/event.hpp"

namespace nexus::runtime {

class saga_machine;

/// Logs what `events` (just emitted by `m`) say happened, one line each
/// where there is something to say: a start, a failed attempt, a
/// compensation, a cancel or an operator's retry (info); attempts and
/// retries (debug); a failed compensation (error). Warnings are left for
/// trouble in Nexus itself (a stuck worker, an open breaker, a slow log),
/// so that a console at `warn` stays quiet in a run that goes as planned.
/// A saga's end is logged by log_saga_end(), once its events are durable.
void log_saga_events(const saga_machine& m, const std::vector<storage::event>& events);

/// Logs that `m` has ended, with its status in the line's `status` field:
/// error when failed (it needs an operator), else info. Called once the end is durable, so that the log and the event
/// log agree.
void log_saga_end(const saga_machine& m);

} // namespace nexus::runtime
