#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/saga_status.hpp"

namespace nexus::storage {

/// The `sagas` family's row for one saga: where it stands, without reading
/// its events. Persisted as JSON: changing a field breaks `nexus sagas` on
/// existing logs.
struct saga_row {
  std::string saga;
  /// Hash of the definition it runs on; empty in rows written before
  /// definitions were stored (it runs on the workflow's saga of its name).
  std::string definition;
  saga_status status = saga_status::running;
  std::uint64_t last_seq = 0;    ///< Sequence number of its newest event.
  std::int64_t started_us = 0;
  std::int64_t updated_us = 0;
  std::uint32_t steps_done = 0;  ///< Steps that have succeeded.
  std::uint32_t steps_total = 0;
  bool expired = false;          ///< Its events were removed by retention.
  /// Passivated: it waits (a sleep, a signal, a retry) and no process holds
  /// it in memory; a restart leaves it in the log. Its timer, in the
  /// `timers` family, brings it back at `wake_us` (0: it has no timer, and
  /// only a signal or a cancel does).
  bool parked = false;
  std::int64_t wake_us = 0;
};

void encode_saga_row(const saga_row& row, std::string& out);
bool decode_saga_row(std::string_view json, saga_row& row, std::string& error);

} // namespace nexus::storage
