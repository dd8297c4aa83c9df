#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>

#include "config/workflow.hpp"

namespace nexus::actors {

/// CAF configuration for a Nexus node: message types registered, scheduler
/// threads set (0: one per core), and no reading of caf-application.ini,
/// since Nexus has its own command line.
class system_config : public caf::actor_system_config {
public:
  explicit system_config(std::uint32_t threads);

  /// A cluster node: also CAF's networking (the io middleman), with
  /// `cluster_name` checked in the handshake and heartbeats on, so that a
  /// node that stops answering is dropped after `connection_timeout`.
  system_config(std::uint32_t threads, const std::string& cluster_name);

  /// As above, with mutual TLS (caf::openssl) when `tls` is on: every
  /// connection then needs a certificate signed by `tls.ca`.
  system_config(std::uint32_t threads, const config::cluster_settings& cluster);

  /// Whether connections are made with TLS.
  bool tls() const { return tls_; }

  /// Heartbeats of a cluster node, and the silence after which the other
  /// side counts it lost (a killed process is seen at once, by its closed
  /// connection; these catch a node that hangs or a network that drops).
  static constexpr std::chrono::milliseconds heartbeat_interval{500};
  static constexpr std::chrono::milliseconds connection_timeout{5000};

  /// The thread count actually configured.
  std::uint32_t threads() const { return threads_; }

private:
  std::uint32_t threads_;
  bool tls_ = false;
};

} // namespace nexus::actors
