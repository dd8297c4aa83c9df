#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

namespace nexus::storage {
class event_log;
}

namespace nexus::actors {

/// Spawns the retention actor, detached (it deletes from RocksDB). It
/// removes the events of sagas that ended more than `days` ago at once and
/// then every hour, writing beside the event-log writer, so appends never
/// wait for it. It answers no messages; stop it with an exit message.
/// `log` must outlive it.
caf::actor spawn_retention(caf::actor_system& sys, storage::event_log& log, std::uint32_t days);

} // namespace nexus::actors
