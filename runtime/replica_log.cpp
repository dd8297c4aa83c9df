#include "runtime/replica_log.hpp"

#include <algorithm>
#include <iterator>

namespace nexus::runtime {

std::uint64_t replica_log::epoch_at(std::uint64_t position) const {
  if (position == 0 || position > last_)
    return 0;
  auto i = starts_.upper_bound(position);
  if (i == starts_.begin()) // below a checkpoint's last batch
    return starts_.empty() ? 0 : starts_.begin()->second;
  return std::prev(i)->second;
}

replica_verdict replica_log::judge(std::uint64_t epoch, std::uint64_t position,
                                   std::uint64_t prev_epoch) const {
  if (epoch < epoch_)
    return replica_verdict::stale_epoch;
  if (position == 0 || position > last_ + 1)
    return replica_verdict::gap;
  // A checkpoint holds what its leader had written, acknowledged or not: a
  // resend of that leader's is held; a newer leader's batch there means
  // that leader lacks some of it, and only a checkpoint of its own fits.
  if (position <= floor_)
    return epoch == epoch_at(floor_) ? replica_verdict::duplicate : replica_verdict::diverged;
  bool prev_matches = position == 1 || epoch_at(position - 1) == prev_epoch;
  if (position == last_ + 1)
    return prev_matches ? replica_verdict::append : replica_verdict::diverged;
  if (epoch_at(position) == epoch)
    return replica_verdict::duplicate;
  return prev_matches ? replica_verdict::truncate_then_append : replica_verdict::diverged;
}

void replica_log::appended(std::uint64_t epoch, std::uint64_t position) {
  if (position != last_ + 1)
    truncated(position - 1);
  if (epoch_at(last_) != epoch || last_ == 0)
    starts_[position] = epoch;
  last_ = position;
  epoch_ = std::max(epoch_, epoch);
}

void replica_log::truncated(std::uint64_t position) {
  position = std::max(position, floor_); // a checkpoint goes whole (judge: diverged)
  if (position >= last_)
    return;
  starts_.erase(starts_.upper_bound(position), starts_.end());
  last_ = position;
}

void replica_log::restored(std::uint64_t epoch, std::uint64_t position) {
  starts_.clear();
  last_ = floor_ = position;
  if (position > 0)
    starts_[position] = epoch; // the epochs before it are the checkpoint's own
  epoch_ = std::max(epoch_, epoch);
}

} // namespace nexus::runtime
