#pragma once

#include <condition_variable>
#include <mutex>

namespace nexus::actors {

/// Lets tool calls (from the gateway, on threads of their own, calling the
/// engine's methods) in until the engine stops: close() turns new ones away
/// and waits for those running, so none sees the engine stop under it.
class tool_gate {
public:
  /// A call may run (then leave() when it ends); false once closed.
  bool enter();
  void leave();
  /// Turns away new calls and waits for those running to leave.
  void close();

private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int running_ = 0;
  bool closed_ = false;
};

} // namespace nexus::actors
