#pragma once

// Who leads, as one coordinator sees it through etcd (docs/ha.md, issue
// #24): the pure core of campaigning, time an argument.
//
// A coordinator holds a lease of its own in etcd and renews it each third
// of the lease. With it, it campaigns for the leader key, which etcd
// creates for the first campaign only (its create revision is the leader's
// epoch) and removes when its holder's lease ends. The holder leads while
// its lease holds (runtime::leader_lease: until a renewal could have
// lapsed in etcd, less a margin); the others follow the holder they read,
// and campaign again each sixth of the lease, so that one takes over at
// most a sixth of a lease after the key is gone. A leader that cannot renew
// in time steps down by itself: it stops acknowledging, gives its lease up
// (so that its key goes at once where etcd can be reached) and campaigns
// afresh, with a new lease, like any other.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "runtime/etcd_client.hpp"
#include "runtime/leader_lease.hpp"

namespace nexus::runtime {

enum class leadership_role : std::uint8_t {
  candidate, ///< No leader known: it has no lease yet, or has not campaigned with it.
  follower,  ///< Another holds the key.
  leader,    ///< It holds the key, and its lease holds.
};

const char* to_string(leadership_role r);

/// What to ask etcd next.
struct leadership_request {
  enum class kind : std::uint8_t {
    grant,    ///< A new lease of ttl_seconds().
    renew,    ///< keep_alive(lease).
    campaign, ///< campaign(key, this node's value, lease).
    revoke,   ///< revoke(lease): a former leader's lease, so that its key goes now.
    wait,     ///< Nothing before `at_us`.
  };
  kind what = kind::wait;
  std::int64_t lease = 0;
  std::int64_t at_us = 0; ///< With wait: when next() has something again.
};

class leadership {
public:
  /// `lease`: cluster.ha.lease_ms; `margin`: how much sooner than etcd
  /// could expire the lease a leader stops acknowledging; `retry`: how soon
  /// a request that etcd did not answer is made again.
  leadership(std::chrono::milliseconds lease, std::chrono::milliseconds margin,
             std::chrono::milliseconds retry);

  /// The whole seconds of each lease asked for.
  std::int64_t ttl_seconds() const { return lease_.ttl_seconds(); }

  /// What to ask at `now_us`. A leader whose lease ran out by `now_us`
  /// steps down first (then the request is to revoke its lease).
  leadership_request next(std::int64_t now_us);

  // The answers, each with when its request was sent; nothing: etcd did
  // not answer.

  void granted(std::int64_t sent_us, std::optional<std::int64_t> lease);
  /// `ttl_s` 0: the lease is gone (expired or revoked).
  void renewed(std::int64_t sent_us, std::optional<std::int64_t> ttl_s);
  void campaigned(std::int64_t sent_us, const std::optional<etcd_campaign>& answer);
  /// The former lease is given up, whatever etcd answered (it lapses anyway).
  void revoked(std::int64_t now_us);

  /// Leaves leadership to another (one whose log is longer): a leader
  /// steps down at `now_us`, and no new lease is asked for before
  /// `until_us`, so that another's campaign wins meanwhile.
  void yield(std::int64_t now_us, std::int64_t until_us);

  leadership_role role() const { return role_; }
  /// The leader's epoch (its key's create revision), this node's or the
  /// one it follows; 0 when no leader is known.
  std::int64_t epoch() const { return epoch_; }
  /// What the leader put in the key (how to reach it); "" when none is known.
  const std::string& leader_value() const { return leader_value_; }
  /// Whether this node may acknowledge writes at `now_us`: it leads and
  /// its lease holds.
  bool may_acknowledge(std::int64_t now_us) const {
    return role_ == leadership_role::leader && lease_.may_acknowledge(now_us);
  }
  /// The lease it holds now (0: none).
  std::int64_t lease_id() const { return lease_id_; }
  /// Until when a leader may acknowledge (0: not a leader).
  std::int64_t valid_until_us() const {
    return role_ == leadership_role::leader ? lease_.valid_until_us() : 0;
  }

private:
  void step_down(std::int64_t now_us);

  leader_lease lease_;
  std::int64_t campaign_us_; ///< How often a follower campaigns: a sixth of the lease.
  std::int64_t retry_us_;
  leadership_role role_ = leadership_role::candidate;
  std::int64_t lease_id_ = 0;  ///< 0: none held.
  std::int64_t revoke_ = 0;    ///< A former lease to give up first (0: none).
  std::int64_t grant_at_ = 0;
  std::int64_t hold_until_ = 0; ///< No lease before it (yield()).
  std::int64_t renew_at_ = 0;
  std::int64_t campaign_at_ = 0;
  std::int64_t epoch_ = 0;
  std::string leader_value_;
};

} // namespace nexus::runtime
