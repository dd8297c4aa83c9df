#include "actors/retention.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

constexpr auto sweep_interval = std::chrono::hours(1);

void sweep(storage::event_log& log, std::uint32_t days) {
  auto cutoff = storage::now_us() - static_cast<std::int64_t>(days) * 86400 * 1000000;
  std::uint64_t expired = 0;
  auto st = log.expire(cutoff, expired);
  if (!st)
    spdlog::error("retention: {}", st.message());
  else if (expired > 0)
    spdlog::info("retention: removed the events of {} sagas that ended before {}", expired,
                 storage::format_timestamp(cutoff));
}

caf::behavior retention(caf::event_based_actor* self, storage::event_log* log, std::uint32_t days) {
  self->send(self, expire_atom::value);
  return {
    [=](expire_atom) {
      sweep(*log, days);
      self->delayed_send(self, sweep_interval, expire_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_retention(caf::actor_system& sys, storage::event_log& log, std::uint32_t days) {
  return sys.spawn<caf::detached>(retention, &log, days);
}

} // namespace nexus::actors
