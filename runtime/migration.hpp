#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/workflow.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/append_request.hpp"
#include "storage/event_log.hpp"
#include "storage/saga_row.hpp"

namespace nexus::runtime {

class definition_catalog;

/// Why saga `m`, where it stands on its definition (m.spec()), cannot move
/// to definition `to` of file `file`; empty if it can. A move is safe when
/// what the saga has done still reads the same on `to` and what it still
/// owes is still possible:
/// - every step it has started or finished keeps its name, its place and
///   its parallel group (the groups it has reached are the same in `to`);
/// - every step it would still compensate still has a compensation, and a
///   pivot it has passed stays a pivot;
/// - a step whose attempt is running or waits for a retry keeps its action
///   (resource, timeout, action, retry), and a compensation that is running
///   or waits for a retry stays as it was. A compensation not yet begun,
///   or one that failed for good (a `failed` saga's), may change: fixing it
///   is what migrating is for;
/// - added, removed or changed steps lie only ahead of it.
/// Reasons name the saga, the step and the change: `ord-7: step b has
/// started, NEW.json removes it`.
std::string move_problem(const saga_machine& m, const config::saga_spec& to,
                         const std::string& file);

/// What `nexus migrate` does with one saga.
struct migration {
  enum class verdict : std::uint8_t {
    moves,     ///< It can move; `append` moves it.
    unchanged, ///< It is on `to` already.
    refused,   ///< It cannot; `reason` says why.
  };
  verdict what = verdict::refused;
  std::string cid;
  std::string saga;
  std::string from;   ///< Hash of its definition; empty for a log from before definitions.
  std::string reason; ///< When refused; when it moves without its old definition, a note.
  std::optional<storage::append_request> append; ///< The definition_changed event and row.
};

/// Plans the move of saga `cid` (row `row`: unfinished or failed) to `to`.
/// Its own definition comes from `definitions` or the log; if it is missing
/// (a damaged log) or the row predates definitions, the saga's events are
/// checked against `to` alone (the steps they name must be `to`'s, in its
/// order), so that such a saga can still be moved on and ended.
migration plan_migration(const storage::event_log& log, definition_catalog& definitions,
                         const std::string& cid, const storage::saga_row& row,
                         const config::saga_spec& to, const std::string& file,
                         std::int64_t now_us);

/// Whether a saga with this row is one `nexus migrate` considers: unfinished
/// or ended `failed` (its compensation can be retried), events not expired.
bool migratable(const storage::saga_row& row);

/// Which sagas a migration considers besides migratable(): of saga `saga`
/// (empty: every saga `to` defines), on a definition whose hash starts
/// with `from` (empty: any), or only those named in `cids` (if not empty).
struct migration_filter {
  std::string saga;
  std::string from;
  std::vector<std::string> cids;
};

/// Plans the move of every saga `filter` selects to its saga's definition
/// in `to` (workflow file `file`), in correlation-ID order. Sagas whose
/// saga `to` does not define are left out. An error if the log cannot be read.
storage::status plan_migrations(const storage::event_log& log, definition_catalog& definitions,
                                const config::workflow& to, const std::string& file,
                                const migration_filter& filter, std::int64_t now_us,
                                std::vector<migration>& out);

} // namespace nexus::runtime
