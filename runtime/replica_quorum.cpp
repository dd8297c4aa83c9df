#include "runtime/replica_quorum.hpp"

#include <algorithm>
#include <functional>
#include <vector>

namespace nexus::runtime {

void replica_quorum::local_durable(std::uint64_t position) {
  local_ = std::max(local_, position);
  recompute();
}

void replica_quorum::follower_durable(const std::string& node, std::uint64_t position) {
  auto& held = followers_[node];
  held = std::max(held, position);
  recompute();
}

void replica_quorum::follower_gone(const std::string& node) {
  followers_.erase(node);
}

void replica_quorum::recompute() {
  if (min_replicas_ == 0) {
    committed_ = std::max(committed_, local_);
    return;
  }
  if (followers_.size() < min_replicas_)
    return;
  // The min_replicas-th highest follower position: that many hold it.
  std::vector<std::uint64_t> held;
  held.reserve(followers_.size());
  for (auto& [node, position] : followers_)
    held.push_back(position);
  auto kth = held.begin() + (min_replicas_ - 1);
  std::nth_element(held.begin(), kth, held.end(), std::greater<>{});
  committed_ = std::max(committed_, std::min(local_, *kth));
}

} // namespace nexus::runtime
