#pragma once

#include <cstdint>

#include <caf/actor_system_config.hpp>

namespace nexus::runtime {

/// CAF configuration for a Nexus node: message types registered, scheduler
/// threads set (0: one per core), and no reading of caf-application.ini,
/// since Nexus has its own command line.
class system_config : public caf::actor_system_config {
public:
  explicit system_config(std::uint32_t threads);

  /// The thread count actually configured.
  std::uint32_t threads() const { return threads_; }

private:
  std::uint32_t threads_;
};

} // namespace nexus::runtime
