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

std::string endpoint_name(const std::pair<std::string, std::uint16_t>& endpoint) {
  return endpoint.first + ":" + std::to_string(endpoint.second);
}

std::optional<std::pair<std::size_t, caf::actor>>
connect_to_first(caf::actor_system& sys,
                 const std::vector<std::pair<std::string, std::uint16_t>>& endpoints,
                 std::size_t first, std::string& why) {
  why.clear();
  for (std::size_t tried = 0; tried < endpoints.size(); ++tried) {
    auto i = (first + tried) % endpoints.size();
    auto gateway = connect_to(sys, endpoints[i].first, endpoints[i].second);
    if (gateway)
      return std::make_pair(i, std::move(*gateway));
    why += (why.empty() ? "" : "; ") + endpoint_name(endpoints[i]) + ": "
           + sys.render(gateway.error());
  }
  return std::nullopt;
}

} // namespace nexus::actors
