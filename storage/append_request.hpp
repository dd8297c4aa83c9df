#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/breaker_row.hpp"
#include "storage/saga_row.hpp"

namespace nexus::storage {

/// One saga's events to append, all or nothing, with its new `sagas` row
/// when its status changed. The row is rewritten only then (start,
/// compensating, end, a move to another definition), not on every step: it is what recovery, duplicate
/// checks and retention need, and it halves the writes of a three-step saga.
/// runtime::live_progress() gives a running saga's current figures from its events.
struct append_request {
  std::string cid;
  std::vector<std::pair<std::uint64_t, std::string>> events; ///< seq, encoded JSON.
  std::optional<saga_row> row;
  /// For `cid` = breaker_cid(resource): the resource's new `breakers` row.
  std::optional<breaker_row> breaker;
  /// The saga's timer (see saga_row::parked) to remove, and the one to set,
  /// by wake time: written with the events, so that the index and the
  /// events never disagree after a crash.
  std::optional<std::int64_t> timer_clear;
  std::optional<std::int64_t> timer_set;
};

} // namespace nexus::storage
