#include "actors/cluster/transport.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

namespace nexus::actors {

namespace {

bool uses_tls(caf::actor_system& sys) {
  return !sys.config().openssl_certificate.empty();
}

} // namespace

caf::expected<std::uint16_t> publish_on(caf::actor_system& sys, const caf::actor& whom,
                                        const std::string& host, std::uint16_t port) {
  if (uses_tls(sys))
    return caf::openssl::publish(whom, port, host.c_str(), true);
  return caf::io::publish(whom, port, host.c_str(), true);
}

caf::expected<caf::actor> connect_to(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port) {
  if (uses_tls(sys))
    return caf::openssl::remote_actor(sys, host, port);
  return sys.middleman().remote_actor(host, port);
}

} // namespace nexus::actors
