#pragma once

// Campaigning for leadership in etcd (docs/ha.md, issue #24), as an actor
// around runtime::leadership: it makes the etcd calls the core asks for,
// one after another (they block: a thread of its own), and tells its owner
// whenever what it knows changes.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include "runtime/leadership.hpp"

namespace nexus::actors {

/// `(leadership_atom, leadership_view)`: to the owner, on every change.
using leadership_atom = caf::atom_constant<caf::atom("leadership")>;

/// What a coordinator knows of leadership now.
struct leadership_view {
  runtime::leadership_role role = runtime::leadership_role::candidate;
  std::int64_t epoch = 0;       ///< The leader's (this node's, or the one it follows); 0: none known.
  std::string leader;           ///< The leader's value in etcd (how to reach it); "": none known.
  std::int64_t valid_until_us = 0; ///< A leader acknowledges until then (actor clock, µs); else 0.

  bool operator==(const leadership_view& o) const {
    return role == o.role && epoch == o.epoch && leader == o.leader
           && valid_until_us == o.valid_until_us;
  }
  bool operator!=(const leadership_view& o) const { return !(*this == o); }
};

struct leadership_setup {
  std::string key;   ///< /nexus/<cluster>/leader
  std::string value; ///< What this node puts in the key when it leads.
  std::chrono::milliseconds lease{3000}; ///< cluster.ha.lease_ms
  /// How much sooner than etcd could expire its lease a leader stops.
  std::chrono::milliseconds margin{300};
  /// How soon a call that etcd did not answer is made again.
  std::chrono::milliseconds retry{250};
  /// Used from the actor's thread only.
  std::shared_ptr<runtime::etcd_leases> etcd;
  caf::actor owner; ///< Told `(leadership_atom, leadership_view)`.
};

/// `(leadership_atom, std::int64_t hold_us)`: to the campaign: leave
/// leadership to another (one whose log is longer) and ask for no lease
/// for `hold_us`.

/// Spawns the campaign (on a thread of its own unless a test places it on
/// the scheduler). It takes a lease and campaigns at once, renews each
/// third of the lease, campaigns again each third while another leads,
/// and steps down when its lease may have lapsed. Times are the actor
/// clock's (steady; the test's on CAF's deterministic scheduler), in µs
/// since its epoch: a leader's `valid_until_us` is on that clock. On exit
/// it revokes its lease, so that its key goes at once and another node
/// takes over within a third of a lease.
caf::actor spawn_leadership(caf::actor_system& sys, leadership_setup setup, bool detached = true);

/// Microseconds on the actor clock of `sys`: what `valid_until_us` is
/// measured on.
std::int64_t actor_clock_us(caf::actor_system& sys);

} // namespace nexus::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nexus::actors::leadership_view)
