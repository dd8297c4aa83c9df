#pragma once

// The app side of migrations (nexus migrate, retry --migrate): writing the
// moves, and telling what became of each saga.

#include <vector>

#include "config/workflow.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/migration.hpp"
#include "storage/event_log.hpp"

namespace nexus::app {

/// Prints what a migration did (or, `dry_run`, would do) to each saga, a
/// line each or, `json`, one object; returns nexus migrate's exit status:
/// 0 if every saga moved (or was on its new definition already), 1 if
/// some could not.
int report_migrations(const std::vector<runtime::migration>& plans, const config::workflow& to,
                      bool dry_run, bool json);

/// Stores `definitions`' current ones, then writes the moves among
/// `plans` in one batch; the exit status (1, said on stderr, if the log
/// refuses).
int write_migrations(storage::event_log& log, const runtime::definition_catalog& definitions,
                     const std::vector<runtime::migration>& plans);

} // namespace nexus::app
