#pragma once

#include <cstdint>

namespace nexus::actors {

/// Where an actor that blocks (RocksDB reads and writes) runs: on a thread
/// of its own, so that it never holds a scheduler thread that sagas run on
/// (every run), or on the scheduler like any actor, so that CAF's
/// deterministic test scheduler drives it (a detached actor has a thread
/// the test coordinator cannot step).
enum class placement : std::uint8_t { own_thread, scheduler };

} // namespace nexus::actors
