// The front of a coordinator without TLS: it turns away and logs
// connections that are not CAF nodes, and relays the rest to the gateway.
#include "actors/cluster/front.hpp"

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "runtime/logging.hpp"
#include "actors/errors.hpp"
#include "actors/messages.hpp"

namespace nexus::actors {

// -- the front ----------------------------------------------------------------

namespace {

/// One side of a relayed connection.
struct relay_end {
  caf::io::connection_handle peer;
  bool client = false;          ///< The side that connected to the front.
  bool heard_client = false;    ///< (Client side) its first bytes have been checked.
  std::string from;             ///< The client's address, for the log.
  std::vector<char> first;      ///< (Client side) its first bytes, until 8 have come.
};

/// Whether `buf` starts as a connecting CAF node's first message does: a
/// BASP header (caf/io/basp/header.hpp in 0.17) of a client handshake
/// (message type 0x01), padding and flags zero, and a payload length (big
/// endian) under 64 KiB. Random bytes pass about one time in 2^40.
bool starts_with_handshake(const std::vector<char>& buf) {
  if (buf.size() < 8)
    return false;
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(buf[i]); };
  std::uint32_t payload = (std::uint32_t{b(4)} << 24) | (std::uint32_t{b(5)} << 16)
                          | (std::uint32_t{b(6)} << 8) | std::uint32_t{b(7)};
  return b(0) == 0x01 && b(1) == 0 && b(2) == 0 && b(3) == 0 && payload < 64 * 1024;
}

caf::behavior front(caf::io::broker* self, std::uint16_t inner_port) {
  auto ends = std::make_shared<std::map<caf::io::connection_handle, relay_end>>();
  auto drop = [self, ends](caf::io::connection_handle h) {
    auto it = ends->find(h);
    if (it == ends->end())
      return;
    auto peer = it->second.peer;
    ends->erase(it);
    self->close(h);
    if (ends->erase(peer) > 0)
      self->close(peer);
  };
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto from = self->remote_addr(msg.handle) + ":" + std::to_string(self->remote_port(msg.handle));
      auto inner = self->add_tcp_scribe("127.0.0.1", inner_port);
      if (!inner) {
        runtime::log(spdlog::level::err, {}, "front: cannot reach the gateway for {}: {}", from,
                     self->system().render(inner.error()));
        self->close(msg.handle);
        return;
      }
      (*ends)[msg.handle] = relay_end{*inner, true, false, from, {}};
      (*ends)[*inner] = relay_end{msg.handle, false, false, from, {}};
      for (auto h : {msg.handle, *inner})
        self->configure_read(h, caf::io::receive_policy::at_most(64 * 1024));
    },
    [=](caf::io::new_data_msg& msg) {
      auto it = ends->find(msg.handle);
      if (it == ends->end())
        return;
      auto& end = it->second;
      if (end.client && !end.heard_client) {
        // Judged on its first 8 bytes, however the network splits them.
        end.first.insert(end.first.end(), msg.buf.begin(), msg.buf.end());
        if (end.first.size() < 8)
          return;
        end.heard_client = true;
        if (!starts_with_handshake(end.first)) {
          runtime::log(spdlog::level::warn, {}, "a connection from {} refused: its first {} bytes "
                       "are not a CAF handshake: not a Nexus node",
                       end.from, end.first.size());
          drop(msg.handle);
          return;
        }
        msg.buf = std::exchange(end.first, {});
      }
      auto peer = end.peer;
      self->write(peer, msg.buf.size(), msg.buf.data());
      self->flush(peer);
    },
    [=](const caf::io::connection_closed_msg& msg) { drop(msg.handle); },
    [=](const caf::io::acceptor_closed_msg&) {},
    [=](start_atom, const std::string& host, std::uint16_t port) -> caf::result<std::uint16_t> {
      auto door = self->add_tcp_doorman(port, host.c_str(), true);
      if (!door)
        return door.error();
      return door->second;
    },
  };
}

} // namespace

caf::expected<std::pair<caf::actor, std::uint16_t>>
spawn_front(caf::actor_system& sys, const std::string& host, std::uint16_t port,
            std::uint16_t inner_port) {
  auto f = sys.middleman().spawn_broker(front, inner_port);
  caf::scoped_actor self{sys};
  caf::expected<std::pair<caf::actor, std::uint16_t>> result = caf::make_error(errc::front_not_started);
  self->request(f, caf::infinite, start_atom::value, host, port)
    .receive([&](std::uint16_t p) { result = std::make_pair(caf::actor{f}, p); },
             [&](caf::error& err) {
               result = std::move(err);
               self->send_exit(f, caf::exit_reason::user_shutdown);
             });
  return result;
}

} // namespace nexus::actors
