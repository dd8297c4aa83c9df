#include "actors/tool_gate.hpp"

namespace nexus::actors {

bool tool_gate::enter() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (closed_)
    return false;
  ++running_;
  return true;
}

void tool_gate::leave() {
  std::lock_guard<std::mutex> guard{mutex_};
  if (--running_ == 0)
    idle_.notify_all();
}

void tool_gate::close() {
  std::unique_lock<std::mutex> guard{mutex_};
  closed_ = true;
  idle_.wait(guard, [this] { return running_ == 0; });
}

} // namespace nexus::actors
