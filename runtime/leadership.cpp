#include "runtime/leadership.hpp"

#include <algorithm>

namespace nexus::runtime {

const char* to_string(leadership_role r) {
  switch (r) {
    case leadership_role::candidate:
      return "candidate";
    case leadership_role::follower:
      return "follower";
    case leadership_role::leader:
      return "leader";
  }
  return "?";
}

leadership::leadership(std::chrono::milliseconds lease, std::chrono::milliseconds margin,
                       std::chrono::milliseconds retry)
  : lease_(lease, margin),
    campaign_us_(std::chrono::duration_cast<std::chrono::microseconds>(lease).count() / 6),
    retry_us_(std::chrono::duration_cast<std::chrono::microseconds>(retry).count()) {
}

leadership_request leadership::next(std::int64_t now_us) {
  using kind = leadership_request::kind;
  if (role_ == leadership_role::leader && !lease_.may_acknowledge(now_us))
    step_down(now_us);
  if (revoke_ != 0)
    return {kind::revoke, revoke_, now_us};
  if (lease_id_ == 0) {
    auto at = std::max(grant_at_, hold_until_);
    if (now_us >= at)
      return {kind::grant, 0, now_us};
    return {kind::wait, 0, at};
  }
  if (now_us >= renew_at_)
    return {kind::renew, lease_id_, now_us};
  if (role_ == leadership_role::leader)
    // Nothing to ask before the next renewal; but if renewals keep failing,
    // it must step down the moment its lease may have lapsed.
    return {kind::wait, 0, std::min(renew_at_, lease_.valid_until_us())};
  if (now_us >= campaign_at_)
    return {kind::campaign, lease_id_, now_us};
  return {kind::wait, 0, std::min(renew_at_, campaign_at_)};
}

void leadership::granted(std::int64_t sent_us, std::optional<std::int64_t> lease) {
  if (!lease || *lease == 0) {
    grant_at_ = sent_us + retry_us_;
    return;
  }
  lease_id_ = *lease;
  lease_.renewed(sent_us, ttl_seconds());
  renew_at_ = lease_.next_renewal_us();
  campaign_at_ = sent_us; // at once
}

void leadership::renewed(std::int64_t sent_us, std::optional<std::int64_t> ttl_s) {
  if (lease_id_ == 0)
    return; // an answer about a lease given up since
  if (!ttl_s) {
    renew_at_ = sent_us + retry_us_; // the lease counts down meanwhile
    return;
  }
  if (*ttl_s <= 0) {
    // Gone in etcd: whatever it held is gone with it.
    if (role_ == leadership_role::leader)
      step_down(sent_us);
    lease_.lost(sent_us);
    lease_id_ = 0;
    revoke_ = 0;
    grant_at_ = sent_us;
    return;
  }
  lease_.renewed(sent_us, *ttl_s);
  renew_at_ = lease_.next_renewal_us();
}

void leadership::campaigned(std::int64_t sent_us, const std::optional<etcd_campaign>& answer) {
  if (lease_id_ == 0 || role_ == leadership_role::leader)
    return; // asked with a lease given up since, or won already
  if (!answer) {
    campaign_at_ = sent_us + retry_us_;
    return;
  }
  epoch_ = answer->holder.create_revision;
  leader_value_ = answer->holder.value;
  // Held with this very lease: a campaign of its own whose answer was lost.
  if (answer->won || answer->holder.lease == lease_id_) {
    role_ = leadership_role::leader;
    return;
  }
  role_ = answer->holder.create_revision != 0 ? leadership_role::follower
                                              : leadership_role::candidate;
  campaign_at_ = sent_us + campaign_us_;
}

void leadership::revoked(std::int64_t now_us) {
  revoke_ = 0;
  grant_at_ = now_us;
}

void leadership::yield(std::int64_t now_us, std::int64_t until_us) {
  hold_until_ = std::max(hold_until_, until_us);
  if (role_ == leadership_role::leader) {
    step_down(now_us);
  } else if (lease_id_ != 0) {
    revoke_ = lease_id_; // a campaign with it could win meanwhile
    lease_id_ = 0;
    role_ = leadership_role::candidate;
  }
}

void leadership::step_down(std::int64_t now_us) {
  role_ = leadership_role::candidate;
  epoch_ = 0;
  leader_value_.clear();
  lease_.lost(now_us);
  revoke_ = lease_id_;
  lease_id_ = 0;
}

} // namespace nexus::runtime
