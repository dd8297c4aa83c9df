#pragma once

#include <cstdint>
#include <functional>

namespace nexus::bench {

/// Messages one saga of `steps` steps sends in a local run of the bench's
/// workflow: its first append and the writer's ack (2); per step the call
/// to the stage and its answer (a simulated step that takes no time: the
/// stage runs it itself), the append of the outcome and its ack (4); and
/// its `done` to the coordinator (1). A Nexus run counts what its actors
/// take (closed_loop.messages_per_saga): these, and the few a run adds on
/// its own (the writer's and syncer's turns, the coordinator's).
constexpr std::uint64_t messages_per_saga(std::uint32_t steps) {
  return 4 * static_cast<std::uint64_t>(steps) + 3;
}

/// What plain CAF actors do with the message pattern of a run and none of
/// its work: no saga machine, no events, no storage, no strings.
struct raw_messaging_spec {
  std::uint32_t threads = 0;   ///< Scheduler threads; 0: one per core.
  std::uint64_t sagas = 0;
  std::uint32_t steps = 3;
  std::uint64_t in_flight = 1; ///< Saga actors alive at once.
};

struct raw_messaging_result {
  std::uint64_t sagas = 0;    ///< That ended.
  std::uint64_t messages = 0; ///< Counted by the actors as they went.
  double seconds = 0;
};

/// Runs `spec` and times it: a coordinator spawns a saga actor per saga,
/// at most `in_flight` alive; each sends its appends to a writer that
/// acknowledges at once, and its calls to one stage per step that answers
/// each at once: the messages a run's sagas send, in the same order
/// (messages_per_saga). Every actor is
/// a scheduled one: nothing here blocks, so none needs a thread of its own
/// (a run's writer and coordinator do), which makes this the faster
/// baseline. `progress` (if given) is told the sagas done now and then,
/// from the calling thread.
raw_messaging_result run_raw_messaging(const raw_messaging_spec& spec,
                                       const std::function<void(std::uint64_t sagas)>& progress = {});

} // namespace nexus::bench
