#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/circuit_breaker.hpp"
#include "storage/append_request.hpp"
#include "storage/breaker_row.hpp"

namespace nexus::runtime {

/// What a resource's breaker writes to the event log, free of actors: its
/// transitions as events under `breaker:<resource>`, and its `breakers` row.
/// The breaker actor only sends what this builds to the writer.
class breaker_log {
public:
  /// For `resource`, continuing after event `last_seq` (0: none yet).
  breaker_log(std::string resource, std::uint64_t last_seq);

  /// The events of `ts` (in order, numbered on from the last) and the row of
  /// `machine` after them, to append as one; none if `ts` is empty.
  std::optional<storage::append_request> transitions(const std::vector<breaker_transition>& ts,
                                                     const circuit_breaker& machine,
                                                     std::int64_t now_us);

  /// The row alone: the window's latest figures, no event.
  storage::append_request figures(const circuit_breaker& machine, std::int64_t now_us) const;

  /// The row `machine` has at `now_us`.
  storage::breaker_row row(const circuit_breaker& machine, std::int64_t now_us) const;

  const std::string& resource() const { return resource_; }
  std::uint64_t last_seq() const { return last_seq_; }

private:
  std::string resource_;
  std::string cid_;
  std::uint64_t last_seq_;
};

/// `from -> to: reason`, as events and log lines say it.
std::string describe(const breaker_transition& t);

/// The state a stored row names; none if it names no state.
std::optional<breaker_state> parse_breaker_state(std::string_view text);

} // namespace nexus::runtime
