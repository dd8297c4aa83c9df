#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/workflow.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/event_log.hpp"

namespace nexus::runtime {

/// Rebuilds saga `cid` by streaming its stored events, one at a time,
/// through a fresh machine for `spec` (recovery holds only the fold, never
/// the history). Null, with `error` set, if the log cannot be read or the
/// events do not fit the saga as `spec` now defines it.
std::unique_ptr<saga_machine> rebuild_saga(const storage::event_log& log,
                                           const config::saga_spec& spec, const std::string& cid,
                                           std::string& error);

/// As above, reading through `cursor` (recovery: many sagas in a row).
std::unique_ptr<saga_machine> rebuild_saga(storage::event_cursor& cursor,
                                           const config::saga_spec& spec, const std::string& cid,
                                           std::string& error);

class definition_catalog;

/// What a run finds in the log to carry on: the unfinished sagas it can
/// resume (ID, hash of their definition), those it cannot, their
/// definitions missing or damaged (ID, why); it loads into `definitions`
/// what these and the failed sagas (which a retry reopens) run on.
struct resumable_sagas {
  std::vector<std::pair<std::string, std::string>> unfinished;
  std::vector<std::pair<std::string, std::string>> unrunnable;
  /// Unfinished sagas parked (saga_row::parked): not to resume; their
  /// definitions are loaded all the same, for when they come back.
  std::uint64_t parked = 0;
};

/// Scans the log's saga rows for resumable_sagas; an error if they cannot be read.
storage::status find_resumable(const storage::event_log& log, definition_catalog& definitions,
                               resumable_sagas& out);

/// The append that reopens the compensation of saga `cid`, which ended
/// `failed`, on the definition it runs on (found in `definitions`, or read
/// from the log into it): its `retry_requested` event and the saga's new row, after
/// which a run resumes compensating from the step that failed. Nothing,
/// with `error` naming the saga and the reason, if it cannot be reopened:
/// unknown, not failed, expired, its definition missing, or failed past a
/// pivot. Writes nothing.
std::optional<storage::append_request> prepare_reopen(const storage::event_log& log,
                                                      definition_catalog& definitions,
                                                      const std::string& cid, std::int64_t now_us,
                                                      std::string& error);

} // namespace nexus::runtime
