#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace nexus::actors {

/// A front for a gateway published at 127.0.0.1:`inner_port`, listening
/// at `host`:`port` (0: any free port) and relaying every connection to
/// it. It turns away, and logs with the peer's address, a connection that
/// is not a CAF node: one whose first bytes are not a BASP handshake. CAF
/// itself drops such connections without a word. Not for TLS, whose bytes
/// are encrypted. Returns the front and its port.
caf::expected<std::pair<caf::actor, std::uint16_t>>
spawn_front(caf::actor_system& sys, const std::string& host, std::uint16_t port,
            std::uint16_t inner_port);

} // namespace nexus::actors
