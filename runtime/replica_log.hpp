#pragma once

// What a follower does with a batch its leader replicates (issue #24): the
// pure core of log matching, as Raft does it, with the leader's epoch (its
// etcd revision) for Raft's term. Each batch carries its epoch, its
// position in the log and the epoch of the batch before it; the follower
// keeps, for each epoch it holds batches of, the position where they start.
// A batch from an older epoch than one already taken is refused (the old
// leader is fenced off); one that does not follow on what the follower
// holds sends it to catch up; one that a newer leader writes over batches
// an older one never had acknowledged discards those first.

#include <cstdint>
#include <map>

namespace nexus::runtime {

enum class replica_verdict : std::uint8_t {
  append,               ///< It follows on the last batch: write it.
  duplicate,            ///< Held already (a resend): acknowledge it again.
  stale_epoch,          ///< From a leader older than one already followed: refuse.
  gap,                  ///< Batches before it are missing: catch up first.
  truncate_then_append, ///< Held batches from `position` on are an older leader's: drop them, then write it.
  diverged,             ///< The batch before it differs here: catch up from a checkpoint.
};

class replica_log {
public:
  /// What to do with the batch at `position` of `epoch`, whose leader holds
  /// a batch of `prev_epoch` at `position - 1` (0 for the first).
  replica_verdict judge(std::uint64_t epoch, std::uint64_t position,
                        std::uint64_t prev_epoch) const;
  /// The batch at `position` of `epoch` is written (append, or after the truncation).
  void appended(std::uint64_t epoch, std::uint64_t position);
  /// Every batch after `position` is dropped.
  void truncated(std::uint64_t position);
  /// Starts over from a checkpoint whose last batch is `position` of `epoch`.
  void restored(std::uint64_t epoch, std::uint64_t position);

  std::uint64_t last() const { return last_; }
  /// The newest epoch seen in a batch taken: older ones are refused.
  std::uint64_t epoch() const { return epoch_; }
  /// The epoch of the batch held at `position` (0: none, or position 0;
  /// at or below a checkpoint's last batch, the checkpoint's epoch).
  std::uint64_t epoch_at(std::uint64_t position) const;

private:
  std::uint64_t last_ = 0;
  std::uint64_t floor_ = 0; ///< The last batch of the checkpoint restored, if any.
  std::uint64_t epoch_ = 0;
  std::map<std::uint64_t, std::uint64_t> starts_; ///< First position -> its epoch.
};

} // namespace nexus::runtime
