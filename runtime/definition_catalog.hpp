#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "config/workflow.hpp"
#include "storage/event_log.hpp"
#include "storage/saga_row.hpp"

namespace nexus::runtime {

/// The saga definitions a process knows, each held once however many sagas
/// run on it: the workflow file's, and those read back from the event log
/// (the definitions unfinished or failed sagas started with) or, on a
/// cluster worker, sent with the calls. A saga's machine and every call of
/// it refer to one of these, which stay put until the catalog goes.
/// Thread-safe: stages look calls' definitions up while a worker's
/// endpoint adds those that come with calls.
class definition_catalog {
public:
  /// Adds `wf`'s sagas as the current definitions of their names.
  explicit definition_catalog(const config::workflow& wf);
  definition_catalog() = default;

  /// Adds `saga` (stamped) unless its hash is known; the one held either way.
  const config::saga_spec* add(config::saga_spec saga);

  /// The definition with this hash, or this id (its first 64 bits); null if unknown.
  const config::saga_spec* find(std::string_view hash) const;
  const config::saga_spec* find(std::uint64_t id) const;

  /// The workflow file's definition of saga `name`; null if it has none.
  const config::saga_spec* current(const std::string& name) const;

  /// The definition with this hash, read from `log` if not yet known; null,
  /// with `error` naming the saga's hash, if the log has none or it is damaged.
  const config::saga_spec* load(const storage::event_log& log, const std::string& hash,
                                std::string& error);

  /// What saga `cid` (its row `row`) runs on: its stored definition, or,
  /// for a row from before definitions were stored, the workflow's saga of
  /// its name. Null, with `error` naming the saga, if there is none.
  const config::saga_spec* of(const storage::event_log& log, const std::string& cid,
                              const storage::saga_row& row, std::string& error);

  /// Stores the current definitions in `log` (each once, durably).
  storage::status store_current(storage::event_log& log, std::int64_t now_us) const;

  /// Every definition held, by hash.
  std::map<std::string, const config::saga_spec*> all() const;

private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::uint64_t, std::unique_ptr<const config::saga_spec>> by_id_;
  std::map<std::string, const config::saga_spec*> current_;
};

} // namespace nexus::runtime
