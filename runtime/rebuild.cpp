#include "runtime/rebuild.hpp"

#include "runtime/definition_catalog.hpp"
#include "runtime/saga_writes.hpp"

namespace nexus::runtime {

namespace {

/// Folds the events `read` gives into a fresh machine.
template <class Read>
std::unique_ptr<saga_machine> fold(const config::saga_spec& spec, const std::string& cid,
                                   std::string& error, Read read) {
  auto machine = std::make_unique<saga_machine>(spec, cid);
  std::string why;
  auto s = read([&](const storage::event& e) { return machine->replay(e, why); });
  if (!s) {
    error = s.message();
    return nullptr;
  }
  if (!why.empty()) {
    error = why;
    return nullptr;
  }
  return machine;
}

} // namespace

std::unique_ptr<saga_machine> rebuild_saga(const storage::event_log& log,
                                           const config::saga_spec& spec, const std::string& cid,
                                           std::string& error) {
  return fold(spec, cid, error, [&](const std::function<bool(const storage::event&)>& visit) {
    return log.read_events(cid, 1, UINT64_MAX, visit);
  });
}

std::unique_ptr<saga_machine> rebuild_saga(storage::event_cursor& cursor,
                                           const config::saga_spec& spec, const std::string& cid,
                                           std::string& error) {
  return fold(spec, cid, error, [&](const std::function<bool(const storage::event&)>& visit) {
    return cursor.read_events(cid, visit);
  });
}

storage::status find_resumable(const storage::event_log& log, definition_catalog& definitions,
                               resumable_sagas& out) {
  return log.for_each_saga([&](std::string_view id, const storage::saga_row& row) {
    bool open = !storage::is_terminal(row.status);
    if (!open && row.status != storage::saga_status::failed)
      return true;
    std::string cid{id}, why;
    auto* spec = definitions.of(log, cid, row, why);
    if (spec != nullptr && open && row.parked)
      ++out.parked; // left in the log: its timer, a signal or a cancel brings it back
    else if (spec != nullptr && open)
      out.unfinished.emplace_back(std::move(cid), spec->hash);
    else if (spec == nullptr && open)
      out.unrunnable.emplace_back(std::move(cid), std::move(why));
    return true;
  });
}

std::optional<storage::append_request> prepare_reopen(const storage::event_log& log,
                                                      definition_catalog& definitions,
                                                      const std::string& cid, std::int64_t now_us,
                                                      std::string& error) {
  storage::status s = storage::status::ok();
  auto row = log.find_saga(cid, s);
  if (!row) {
    error = s ? "saga " + cid + " is not in the log" : s.message();
    return std::nullopt;
  }
  if (row->status != storage::saga_status::failed) {
    error = "saga " + cid + " is " + std::string{to_string(row->status)}
            + ": only a saga that ended failed has a compensation to retry";
    return std::nullopt;
  }
  if (row->expired) {
    error = "saga " + cid + ": its events were removed by retention";
    return std::nullopt;
  }
  auto spec = definitions.of(log, cid, *row, error);
  if (spec == nullptr)
    return std::nullopt;
  auto machine = rebuild_saga(log, *spec, cid, error);
  if (!machine) {
    error = "saga " + cid + ": " + error;
    return std::nullopt;
  }
  transition t;
  if (!machine->retry_compensation(now_us, t)) {
    error = "saga " + cid + " failed past a pivot step, not in a compensation: there is "
            "nothing to compensate again";
    return std::nullopt;
  }
  return make_append(*machine, t);
}

} // namespace nexus::runtime
