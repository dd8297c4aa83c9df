#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace nexus::actors {

/// Publishes `whom` at `host`:`port` (0: any free port), over TLS when the
/// system was configured with it; the port, or an error.
caf::expected<std::uint16_t> publish_on(caf::actor_system& sys, const caf::actor& whom,
                                        const std::string& host, std::uint16_t port);

/// Connects to the actor published at `host`:`port`, over TLS when the
/// system was configured with it.
caf::expected<caf::actor> connect_to(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port);

} // namespace nexus::actors
