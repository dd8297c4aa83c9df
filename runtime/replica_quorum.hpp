#pragma once

// Which write batches a replicating leader may acknowledge (issue #24): the
// pure core. Batches are numbered by their position in the leader's log; a
// batch may be acknowledged once it is durable on the leader and on at
// least `min_replicas` followers. Followers report the highest position
// they hold durable (they take batches in order, so that covers every one
// before it).

#include <cstdint>
#include <map>
#include <string>

namespace nexus::runtime {

class replica_quorum {
public:
  explicit replica_quorum(std::uint32_t min_replicas) : min_replicas_(min_replicas) {}

  /// The leader's own sync covers every batch up to `position`.
  void local_durable(std::uint64_t position);
  /// Follower `node` holds every batch up to `position`, durable. A report
  /// lower than one it made before (an old message) changes nothing.
  void follower_durable(const std::string& node, std::uint64_t position);
  /// `node` is no longer a replica (gone, or behind and catching up).
  void follower_gone(const std::string& node);

  /// Every batch up to this position may be acknowledged; it never moves
  /// back, whoever leaves.
  std::uint64_t committed() const { return committed_; }
  /// Followers counted as replicas now.
  std::size_t replicas() const { return followers_.size(); }
  std::uint32_t min_replicas() const { return min_replicas_; }

private:
  void recompute();

  std::uint32_t min_replicas_;
  std::uint64_t local_ = 0;
  std::uint64_t committed_ = 0;
  std::map<std::string, std::uint64_t> followers_;
};

} // namespace nexus::runtime
