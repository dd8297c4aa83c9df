#include "runtime/definition_catalog.hpp"

#include <mutex>

#include "config/definition.hpp"

namespace nexus::runtime {

definition_catalog::definition_catalog(const config::workflow& wf) {
  for (auto& [name, saga] : wf.sagas)
    current_[name] = add(saga);
}

const config::saga_spec* definition_catalog::add(config::saga_spec saga) {
  if (saga.hash.empty())
    config::stamp_definition(saga);
  std::unique_lock lock{mutex_};
  auto& held = by_id_[saga.id];
  if (!held)
    held = std::make_unique<const config::saga_spec>(std::move(saga));
  return held.get();
}

const config::saga_spec* definition_catalog::find(std::uint64_t id) const {
  std::shared_lock lock{mutex_};
  auto i = by_id_.find(id);
  return i == by_id_.end() ? nullptr : i->second.get();
}

const config::saga_spec* definition_catalog::find(std::string_view hash) const {
  auto* spec = find(config::definition_id(hash));
  return spec != nullptr && spec->hash == hash ? spec : nullptr;
}

const config::saga_spec* definition_catalog::current(const std::string& name) const {
  auto i = current_.find(name);
  return i == current_.end() ? nullptr : i->second;
}

const config::saga_spec* definition_catalog::load(const storage::event_log& log,
                                                  const std::string& hash, std::string& error) {
  if (auto* known = find(hash))
    return known;
  storage::status st = storage::status::ok();
  auto stored = log.find_definition(hash, st);
  if (!st) {
    error = st.message();
    return nullptr;
  }
  if (!stored) {
    error = "its definition " + std::string{config::short_hash(hash)}
            + " is not in the event log";
    return nullptr;
  }
  auto parsed = config::parse_definition(stored->json, stored->saga, hash, error);
  if (!parsed)
    return nullptr;
  return add(std::move(*parsed));
}

const config::saga_spec* definition_catalog::of(const storage::event_log& log,
                                                const std::string& cid,
                                                const storage::saga_row& row, std::string& error) {
  if (row.definition.empty()) {
    if (auto* spec = current(row.saga))
      return spec;
    error = "saga " + cid + " is a " + row.saga + ", which the workflow does not define";
    return nullptr;
  }
  auto* spec = load(log, row.definition, error);
  if (spec == nullptr)
    error = "saga " + cid + " (" + row.saga + "): " + error;
  return spec;
}

storage::status definition_catalog::store_current(storage::event_log& log,
                                                  std::int64_t now_us) const {
  for (auto& [name, spec] : current_) {
    auto s = log.store_definition({spec->hash, name, now_us, config::definition_json(*spec)});
    if (!s)
      return s;
  }
  return storage::status::ok();
}

std::map<std::string, const config::saga_spec*> definition_catalog::all() const {
  std::shared_lock lock{mutex_};
  std::map<std::string, const config::saga_spec*> out;
  for (auto& [id, spec] : by_id_)
    out[spec->hash] = spec.get();
  return out;
}

} // namespace nexus::runtime
