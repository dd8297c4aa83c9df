#pragma once

// How many messages Nexus's actors take in this process, counted by the
// handler that takes each (a saga's, a stage's and its workers', the log
// writer's and syncer's, the coordinator's, a breaker's): what `nexus
// bench` reports as the messages a saga actually costs. Each thread counts
// into a slot of its own, so that counting shares no cache line between
// cores; a read sums the slots.

#include <cstdint>

namespace nexus::runtime {

/// One message taken, on this thread.
void count_message();

/// The messages counted so far, by every thread (those that have ended
/// included).
std::uint64_t messages_taken();

} // namespace nexus::runtime
