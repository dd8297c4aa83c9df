#include "actors/system_config.hpp"

#include <thread>

#include <caf/message.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include "actors/errors.hpp"
#include "actors/messages.hpp"
#include "actors/scheduler.hpp"

namespace nexus::actors {

system_config::system_config(std::uint32_t threads) {
  threads_ = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  register_message_types(*this);
  // (CAF 0.17's add_error_category<T> does not compile: its renderer has
  // the wrong signature.)
  add_error_category(caf::atom("nexus"),
                     [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
                       auto what = to_string(static_cast<errc>(code));
                       if (ctx.size() == 1 && ctx.match_element<std::string>(0))
                         return what + ": " + ctx.get_as<std::string>(0);
                       return what;
                     });
  set("scheduler.max-threads", static_cast<size_t>(threads_));
  use_lean_scheduler(*this);
  // Without this CAF prints its own reports at exit.
  set("logger.console", caf::atom("none"));
}

system_config::system_config(std::uint32_t threads, const std::string& cluster_name)
  : system_config(threads) {
  load<caf::io::middleman>();
  set("middleman.app-identifiers", std::vector<std::string>{cluster_name});
  set("middleman.heartbeat-interval", caf::timespan{heartbeat_interval});
  set("middleman.connection-timeout", caf::timespan{connection_timeout});
}

system_config::system_config(std::uint32_t threads, const config::cluster_settings& cluster)
  : system_config(threads, cluster.name) {
  if (!cluster.tls.on())
    return;
  load<caf::openssl::manager>();
  openssl_certificate = cluster.tls.certificate;
  openssl_key = cluster.tls.key;
  openssl_cafile = cluster.tls.ca;
  tls_ = true;
}

} // namespace nexus::actors
