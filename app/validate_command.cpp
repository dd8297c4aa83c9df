#include <iostream>
#include <map>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "config/definition.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/migration.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// The sagas on one stored definition, as a move to the new file would find them.
struct against_one {
  std::string saga;
  std::uint64_t can = 0, unchanged = 0;
  std::vector<std::string> reasons;
};

/// Per stored definition: how many in-flight or failed sagas could move to
/// `wf` and, for those that could not, why (ten at most, then a count).
int report_against(const config::workflow& wf, const std::string& file, const std::string& dir) {
  auto log = open_for_reading(dir);
  if (!log)
    return 1;
  runtime::definition_catalog definitions{wf};
  std::vector<runtime::migration> plans;
  auto st = runtime::plan_migrations(*log, definitions, wf, file, {}, storage::now_us(), plans);
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  std::map<std::string, against_one> by_from;
  for (auto& p : plans) {
    auto& a = by_from[p.from];
    a.saga = p.saga;
    if (p.what == runtime::migration::verdict::moves)
      ++a.can;
    else if (p.what == runtime::migration::verdict::unchanged)
      ++a.unchanged;
    else
      a.reasons.push_back(p.reason);
  }
  if (by_from.empty())
    std::cout << "against " << dir << ": no unfinished or failed sagas of the sagas " << file
              << " defines\n";
  for (auto& [from, a] : by_from) {
    auto to = config::short_hash(wf.sagas.at(a.saga).hash);
    std::cout << "definition " << (from.empty() ? "(none stored)" : std::string{config::short_hash(from)})
              << " (" << a.saga << "): ";
    if (a.unchanged > 0) {
      std::cout << a.unchanged << " in flight or failed, already the same as " << file << "'s\n";
      continue;
    }
    std::cout << a.can + a.reasons.size() << " in flight or failed: " << a.can
              << " could move to " << to << ", " << a.reasons.size() << " could not\n";
    for (std::size_t i = 0; i < a.reasons.size() && i < 10; ++i)
      std::cout << "  " << a.reasons[i] << '\n';
    if (a.reasons.size() > 10)
      std::cout << "  and " << a.reasons.size() - 10 << " more\n";
  }
  return 0;
}

} // namespace

int validate(const validate_args& args) {
  auto loaded = config::load_workflow(args.workflow);
  if (!loaded.ok()) {
    for (auto& e : loaded.errors)
      std::cerr << e.to_string() << '\n';
    std::cerr << args.workflow << ": " << loaded.errors.size()
              << (loaded.errors.size() == 1 ? " error" : " errors") << '\n';
    return 2;
  }
  size_t steps = 0;
  for (auto& [_, saga] : loaded.value->sagas)
    steps += saga.steps.size();
  std::cout << args.workflow << ": ok (" << loaded.value->sagas.size() << " sagas, " << steps
            << " steps)\n";
  if (!args.against.empty())
    return report_against(*loaded.value, args.workflow, args.against);
  return 0;
}

} // namespace nexus::app
