#include "runtime/system_config.hpp"

#include <thread>

#include "runtime/messages.hpp"

namespace nexus::runtime {

system_config::system_config(std::uint32_t threads) {
  threads_ = threads != 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  register_message_types(*this);
  set("scheduler.max-threads", static_cast<size_t>(threads_));
  // Without this CAF prints its own reports at exit.
  set("logger.console", caf::atom("none"));
}

} // namespace nexus::runtime
