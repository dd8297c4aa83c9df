#include "runtime/message_tally.hpp"

#include <atomic>
#include <deque>
#include <mutex>

namespace nexus::runtime {

namespace {

/// A thread's count, alone on its cache line.
struct alignas(64) slot {
  std::atomic<std::uint64_t> n{0};
};

struct slots {
  std::mutex lock;
  std::deque<slot> all; ///< A deque: a slot never moves once handed out.
};

/// Never destroyed: a thread may count while the process exits.
slots& registry() {
  static auto* r = new slots;
  return *r;
}

slot* new_slot() {
  auto& r = registry();
  std::lock_guard<std::mutex> guard{r.lock};
  return &r.all.emplace_back();
}

thread_local slot* mine = nullptr;

} // namespace

void count_message() {
  auto* s = mine;
  if (s == nullptr)
    s = mine = new_slot();
  // Only this thread writes its slot: a plain increment, no locked add.
  s->n.store(s->n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

std::uint64_t messages_taken() {
  auto& r = registry();
  std::lock_guard<std::mutex> guard{r.lock};
  std::uint64_t total = 0;
  for (auto& s : r.all)
    total += s.n.load(std::memory_order_relaxed);
  return total;
}

} // namespace nexus::runtime
