#include "actors/ha/leadership.hpp"

#include <optional>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "runtime/logging.hpp"

namespace nexus::actors {

namespace {

using runtime::leadership_request;
using runtime::leadership_role;

std::int64_t clock_us(caf::actor_clock& clock) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock.now().time_since_epoch())
    .count();
}

struct leadership_state {
  /// Made as the actor starts: CAF 0.17 makes states by their default constructor.
  std::optional<runtime::leadership> core;
  leadership_view told;    ///< What the owner was told last.
  std::uint64_t timer = 0; ///< The tick that counts: a later one replaces an earlier one.
  std::string failing;     ///< The etcd error of a streak of failures (logged once).
  static inline const char* name = "leadership";
};

using leadership_actor = caf::stateful_actor<leadership_state>;

void report(leadership_actor* self, const leadership_setup& setup, bool ok,
            const std::string& error) {
  auto& st = self->state;
  if (ok) {
    if (!st.failing.empty())
      runtime::log(spdlog::level::info, {}, "leadership: etcd answers again");
    st.failing.clear();
  } else if (st.failing.empty()) {
    st.failing = error.empty() ? "no answer" : error;
    runtime::log(spdlog::level::warn, {}, "leadership: etcd did not answer ({}); asking again "
                 "every {} ms", st.failing, setup.retry.count());
  }
}

void tell(leadership_actor* self, const leadership_setup& setup) {
  auto& st = self->state;
  auto& core = *st.core;
  leadership_view now{core.role(), core.epoch(), core.leader_value(), core.valid_until_us()};
  if (now == st.told)
    return;
  if (now.role != st.told.role || now.epoch != st.told.epoch || now.leader != st.told.leader) {
    if (now.role == leadership_role::leader)
      runtime::log(spdlog::level::info, {}, "leadership: leading, epoch {}", now.epoch);
    else if (now.role == leadership_role::follower)
      runtime::log(spdlog::level::info, {}, "leadership: following {} (epoch {})", now.leader,
                   now.epoch);
    else if (st.told.role == leadership_role::leader)
      runtime::log(spdlog::level::warn, {},
                   "leadership: stepped down from epoch {}: its lease could not be renewed in time",
                   st.told.epoch);
  }
  st.told = now;
  self->send(setup.owner, leadership_atom::value, now);
}

/// Asks etcd what the core wants until it wants nothing before a later
/// time, then sets the one timer for then.
void step(leadership_actor* self, const leadership_setup& setup) {
  auto& st = self->state;
  std::string error;
  for (;;) {
    auto sent = clock_us(self->clock());
    auto r = st.core->next(sent);
    switch (r.what) {
      case leadership_request::kind::grant: {
        auto lease = setup.etcd->grant(std::chrono::seconds(st.core->ttl_seconds()), error);
        report(self, setup, lease.has_value(), error);
        st.core->granted(sent, lease);
        break;
      }
      case leadership_request::kind::renew: {
        auto ttl = setup.etcd->keep_alive(r.lease, error);
        report(self, setup, ttl.has_value(), error);
        st.core->renewed(sent, ttl);
        break;
      }
      case leadership_request::kind::campaign: {
        auto answer = setup.etcd->campaign(setup.key, setup.value, r.lease, error);
        report(self, setup, answer.has_value(), error);
        st.core->campaigned(sent, answer);
        break;
      }
      case leadership_request::kind::revoke: {
        tell(self, setup); // stepped down: said before the call, which may take a while
        report(self, setup, setup.etcd->revoke(r.lease, error), error);
        st.core->revoked(clock_us(self->clock()));
        break;
      }
      case leadership_request::kind::wait: {
        tell(self, setup);
        auto delay = std::chrono::microseconds(std::max<std::int64_t>(r.at_us - sent, 0));
        self->delayed_send(self, delay, tick_atom::value, ++st.timer);
        return;
      }
    }
    tell(self, setup);
  }
}

caf::behavior leadership(leadership_actor* self, leadership_setup setup) {
  self->state.core.emplace(setup.lease, setup.margin, setup.retry);
  self->set_exit_handler([self, setup](caf::exit_msg& msg) {
    // Its key goes with its lease: the next campaign elsewhere wins at once.
    auto lease = self->state.core->lease_id();
    if (lease != 0) {
      std::string error;
      if (!setup.etcd->revoke(lease, error))
        runtime::log(spdlog::level::warn, {}, "leadership: cannot give lease {} up ({}); its key "
                     "goes when it lapses", lease, error);
    }
    self->quit(msg.reason);
  });
  self->send(self, tick_atom::value, std::uint64_t{0});
  return {
    [self, setup](tick_atom, std::uint64_t timer) {
      if (timer == self->state.timer)
        step(self, setup);
    },
    [self, setup](leadership_atom, std::int64_t hold_us) {
      auto now = clock_us(self->clock());
      runtime::log(spdlog::level::warn, {}, "leadership: leaving it to another for {} ms",
                   hold_us / 1000);
      self->state.core->yield(now, now + hold_us);
      step(self, setup);
    },
  };
}

} // namespace

caf::actor spawn_leadership(caf::actor_system& sys, leadership_setup setup, bool detached) {
  if (detached)
    return sys.spawn<caf::detached>(leadership, std::move(setup));
  return sys.spawn(leadership, std::move(setup));
}

std::int64_t actor_clock_us(caf::actor_system& sys) {
  return clock_us(sys.clock());
}

} // namespace nexus::actors
