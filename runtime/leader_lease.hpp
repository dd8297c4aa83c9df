#pragma once

// When a coordinator that holds leadership in etcd may still acknowledge
// writes (docs/ha.md, issue #24): the pure core, time an argument.
//
// etcd expires a lease `ttl` after the last renewal it received, and it
// received that renewal no earlier than it was sent. So a leader whose
// renewal sent at `t` was answered with `ttl` left knows that no one else
// can hold the key before `t + ttl`: it acknowledges until then, less a
// margin for the two clocks' drift, and not a moment after unless a later
// renewal succeeds. It renews every third of the lease, so that two
// renewals can fail before it must stop.

#include <chrono>
#include <cstdint>

namespace nexus::runtime {

class leader_lease {
public:
  /// `lease`: the lease asked of etcd (`cluster.ha.lease_ms`); `margin`:
  /// how much sooner than etcd could expire it this side stops.
  leader_lease(std::chrono::milliseconds lease, std::chrono::milliseconds margin);

  /// The whole seconds to ask etcd for (its leases count in seconds): the
  /// lease rounded up, at least 1.
  std::int64_t ttl_seconds() const;

  /// A grant or renewal sent at `sent_us` was answered with `ttl_s` seconds
  /// left (0: the lease is gone).
  void renewed(std::int64_t sent_us, std::int64_t ttl_s);
  /// The lease or the key was found gone at `now_us` (expired, revoked,
  /// taken): nothing may be acknowledged until a renewal sent after it
  /// succeeds (of a new lease, with a won campaign).
  void lost(std::int64_t now_us);

  /// Whether a write may be acknowledged at `now_us`.
  bool may_acknowledge(std::int64_t now_us) const { return now_us < valid_until_us_; }
  /// Until when (0: never; not held).
  std::int64_t valid_until_us() const { return valid_until_us_; }
  /// When to send the next renewal: a third of the lease after the last
  /// one answered.
  std::int64_t next_renewal_us() const { return next_renewal_us_; }

private:
  std::int64_t lease_us_;
  std::int64_t margin_us_;
  std::int64_t valid_until_us_ = 0;
  std::int64_t next_renewal_us_ = 0;
  std::int64_t lost_at_us_ = 0;
};

} // namespace nexus::runtime
