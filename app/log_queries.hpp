#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "runtime/latency_histogram.hpp"
#include "storage/event_log.hpp"

// What the read commands (sagas, breakers, stats) and the MCP tools tell
// about the log, each computed and written as JSON in one place.

namespace nexus::app {

/// The statuses a saga row can have, in the order counts show them:
/// terminal ones first.
inline constexpr storage::saga_status listed_statuses[] = {
  storage::saga_status::completed, storage::saga_status::compensated,
  storage::saga_status::failed,    storage::saga_status::cancelled,
  storage::saga_status::running,   storage::saga_status::compensating};

/// One saga as `nexus sagas` lists it.
struct saga_listing {
  std::string cid;
  storage::saga_row row;
  std::string last_event; ///< Type of its newest event (with its step), or empty.
  /// What a running saga waits for: "signal NAME", with "until TIME" when
  /// the wait has a timeout, or "until TIME" for a sleep; empty if nothing.
  std::string waiting_for;
};

/// Brings a running saga's row up to date and finds each saga's newest event.
storage::status complete_listing(const storage::event_log& log, saga_listing& l);

/// The JSON object of `nexus sagas --json` for one saga; `now` for its age.
std::string saga_listing_json(const saga_listing& l, std::int64_t now);

/// The JSON object of `nexus breakers --json` for one resource.
std::string breaker_json(std::string_view resource, const storage::breaker_row& row);

/// What the log says about one step, or about one step's compensation.
struct step_figures {
  std::uint64_t attempts = 0;  ///< Started.
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;    ///< Ran and failed (refusals apart).
  std::uint64_t refused = 0;   ///< Refused by an open breaker or a full stage: never ran.
  runtime::latency_histogram latency; ///< From start to outcome, of attempts that ran.

  double success_rate() const {
    auto ran = succeeded + failed;
    return ran == 0 ? 0.0 : 100.0 * static_cast<double>(succeeded) / static_cast<double>(ran);
  }
};

/// (saga, step, compensation)
using step_key = std::tuple<std::string, std::string, bool>;

struct log_figures {
  std::map<storage::saga_status, std::uint64_t> by_status;
  std::uint64_t sagas = 0;
  std::uint64_t events = 0;
  /// Sagas per (saga, definition hash; empty for rows from before definitions).
  std::map<std::pair<std::string, std::string>, std::uint64_t> definitions;
  std::map<step_key, step_figures> steps;
};

/// Streams every event once, saga by saga: only the start times of one
/// saga's running attempts are held, whatever the size of the log.
storage::status gather_figures(const storage::event_log& log, log_figures& f);

/// The JSON object of `nexus stats --json`.
std::string figures_json(const log_figures& f);

} // namespace nexus::app
