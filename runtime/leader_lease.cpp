#include "runtime/leader_lease.hpp"

#include <algorithm>

namespace nexus::runtime {

leader_lease::leader_lease(std::chrono::milliseconds lease, std::chrono::milliseconds margin)
  : lease_us_(std::chrono::duration_cast<std::chrono::microseconds>(lease).count()),
    margin_us_(std::chrono::duration_cast<std::chrono::microseconds>(margin).count()) {
}

std::int64_t leader_lease::ttl_seconds() const {
  return std::max<std::int64_t>(1, (lease_us_ + 999'999) / 1'000'000);
}

void leader_lease::renewed(std::int64_t sent_us, std::int64_t ttl_s) {
  if (sent_us < lost_at_us_)
    return; // sent before the loss: it proves nothing about the lease after it
  if (ttl_s <= 0) {
    lost(sent_us);
    return;
  }
  // What etcd says is left, never more than asked for: a grant of whole
  // seconds may outlast the lease configured, the leader's promise may not.
  auto left_us = std::min(ttl_s * 1'000'000, lease_us_);
  // A late answer to an old renewal never shortens what a newer one gave.
  valid_until_us_ = std::max(valid_until_us_, sent_us + left_us - margin_us_);
  next_renewal_us_ = sent_us + lease_us_ / 3;
}

void leader_lease::lost(std::int64_t now_us) {
  valid_until_us_ = 0;
  next_renewal_us_ = 0;
  lost_at_us_ = std::max(lost_at_us_, now_us);
}

} // namespace nexus::runtime
