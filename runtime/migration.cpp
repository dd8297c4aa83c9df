#include "runtime/migration.hpp"

#include "config/definition.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/rebuild.hpp"
#include "runtime/saga_writes.hpp"

namespace nexus::runtime {

namespace {

using state = saga_machine::step_state;

bool touched(state s) { return s != state::pending; }

bool owes_compensation(state s) {
  return s == state::succeeded || s == state::compensating || s == state::compensation_wait
         || s == state::compensation_failed;
}

/// Why the groups the saga has reached are not the same in `to`; empty if they are.
std::string structure_problem(const saga_machine& m, const config::saga_spec& to,
                              const std::string& file) {
  auto& from = m.spec();
  std::uint32_t reached = 0; // groups up to the furthest one with a step begun
  for (std::uint32_t i = 0; i < from.steps.size(); ++i)
    if (touched(m.state_of(i)))
      reached = std::max(reached, from.group_of[i] + 1);
  for (std::uint32_t g = 0; g < reached; ++g) {
    auto& fg = from.groups[g];
    for (auto i = fg.first; i < fg.first + fg.count; ++i) {
      auto& name = from.steps[i].name;
      auto what = touched(m.state_of(i)) ? "step " + name + " has started"
                                         : "step " + name + " is in a parallel group that has started";
      auto at = to.find_step(name);
      if (at < 0)
        return m.cid() + ": " + what + ", " + file + " removes it";
      if (static_cast<std::uint32_t>(at) != i || to.group_of[static_cast<std::uint32_t>(at)] != g)
        return m.cid() + ": " + what + ", " + file + " moves it";
    }
    if (to.groups[g].count != fg.count) {
      auto& extra = to.steps[to.groups[g].first + fg.count].name;
      return m.cid() + ": step " + from.steps[fg.first].name + " has started, " + file
             + " adds step " + extra + " to its parallel group";
    }
  }
  return {};
}

} // namespace

std::string move_problem(const saga_machine& m, const config::saga_spec& to,
                         const std::string& file) {
  if (auto why = structure_problem(m, to, file); !why.empty())
    return why;
  auto& from = m.spec();
  for (std::uint32_t i = 0; i < from.steps.size(); ++i) {
    auto s = m.state_of(i);
    if (!touched(s))
      continue;
    auto& was = from.steps[i];
    auto& will = to.steps[i];
    auto step = m.cid() + ": step " + was.name;
    if (owes_compensation(s) && was.compensate && !will.compensate)
      return step + " would still be compensated, " + file + " removes its compensation";
    if (s == state::succeeded && !was.compensate && will.compensate)
      return step + " is a pivot that has succeeded, " + file + " gives it a compensation";
    if ((s == state::running || s == state::retry_wait)
        && config::forward_json(was) != config::forward_json(will))
      return step + " has started, " + file + " changes it";
    if ((s == state::compensating || s == state::compensation_wait)
        && config::compensation_json(was) != config::compensation_json(will))
      return m.cid() + ": the compensation of step " + was.name + " is running, " + file
             + " changes it";
  }
  return {};
}

bool migratable(const storage::saga_row& row) {
  return !row.expired
         && (!storage::is_terminal(row.status) || row.status == storage::saga_status::failed);
}

migration plan_migration(const storage::event_log& log, definition_catalog& definitions,
                         const std::string& cid, const storage::saga_row& row,
                         const config::saga_spec& to, const std::string& file,
                         std::int64_t now_us) {
  migration out;
  out.cid = cid;
  out.saga = row.saga;
  out.from = row.definition;
  if (row.definition == to.hash) {
    out.what = migration::verdict::unchanged;
    return out;
  }
  auto refuse = [&](std::string why) {
    out.what = migration::verdict::refused;
    out.reason = std::move(why);
    return std::move(out);
  };
  std::string error;
  const config::saga_spec* from = nullptr;
  if (!row.definition.empty()) {
    from = definitions.load(log, row.definition, error);
    if (from == nullptr)
      out.reason = cid + ": " + error + ": checked against " + file + " by the steps its events name";
  } else {
    out.reason = cid + ": its log predates stored definitions: checked against " + file
                 + " by the steps its events name";
  }
  if (from != nullptr) {
    auto was = rebuild_saga(log, *from, cid, error);
    if (!was)
      return refuse(cid + ": cannot read its events: " + error);
    if (auto why = move_problem(*was, to, file); !why.empty())
      return refuse(why);
  }
  auto moved = rebuild_saga(log, to, cid, error);
  if (!moved)
    return refuse(cid + ": its events do not fit " + file + ": " + error);
  if (from == nullptr) {
    // Without the old definition only the order can be checked: every
    // group before the furthest one begun must have begun whole.
    std::uint32_t reached = 0;
    for (std::uint32_t i = 0; i < to.steps.size(); ++i)
      if (touched(moved->state_of(i)))
        reached = std::max(reached, to.group_of[i] + 1);
    for (std::uint32_t i = 0; i < to.steps.size(); ++i)
      if (to.group_of[i] + 1 < reached && !touched(moved->state_of(i)))
        return refuse(cid + ": its events skip step " + to.steps[i].name + " of " + file
                      + ": they do not follow its order");
  }
  transition t;
  moved->moved_from(row.definition, now_us, t);
  out.append = make_append(*moved, t);
  out.what = migration::verdict::moves;
  return out;
}

storage::status plan_migrations(const storage::event_log& log, definition_catalog& definitions,
                                const config::workflow& to, const std::string& file,
                                const migration_filter& filter, std::int64_t now_us,
                                std::vector<migration>& out) {
  auto consider = [&](const std::string& cid, const storage::saga_row& row) {
    if (!migratable(row) || (!filter.saga.empty() && row.saga != filter.saga)
        || row.definition.compare(0, filter.from.size(), filter.from) != 0)
      return;
    if (auto* spec = to.find_saga(row.saga))
      out.push_back(plan_migration(log, definitions, cid, row, *spec, file, now_us));
  };
  if (filter.cids.empty())
    return log.for_each_saga([&](std::string_view cid, const storage::saga_row& row) {
      consider(std::string{cid}, row);
      return true;
    });
  for (auto& cid : filter.cids) {
    storage::status st = storage::status::ok();
    auto row = log.find_saga(cid, st);
    if (!st)
      return st;
    if (row)
      consider(cid, *row);
  }
  return storage::status::ok();
}

} // namespace nexus::runtime
