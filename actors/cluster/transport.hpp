#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

/// `host:port`, for messages.
std::string endpoint_name(const std::pair<std::string, std::uint16_t>& endpoint);

/// Connects to the first of `endpoints` that takes the connection, trying
/// each once from `first` on (round to the start): its index and actor.
/// None if none did, with `why` naming each and its error.
std::optional<std::pair<std::size_t, caf::actor>>
connect_to_first(caf::actor_system& sys,
                 const std::vector<std::pair<std::string, std::uint16_t>>& endpoints,
                 std::size_t first, std::string& why);

} // namespace nexus::actors
