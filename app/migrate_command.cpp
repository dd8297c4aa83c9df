// nexus migrate, and the migration that nexus retry --migrate does first.
#include <iostream>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "app/migrations.hpp"
#include "config/definition.hpp"
#include "config/workflow.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/migration.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

bool hex_prefix(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

} // namespace

int migrate(const migrate_args& args) {
  config::workflow wf;
  if (!load_or_report(args.workflow, {args.data_dir, ""}, wf))
    return 2;
  if (!args.saga.empty() && wf.find_saga(args.saga) == nullptr) {
    std::cerr << "nexus: --saga " << args.saga << ": " << args.workflow
              << " defines no such saga\n";
    return 2;
  }
  if (!args.from.empty() && !hex_prefix(args.from)) {
    std::cerr << "nexus: --from " << args.from
              << ": expected a definition's hash or its start (hex digits, as nexus "
                 "definitions shows)\n";
    return 2;
  }
  std::string error;
  // A dry run only reads: it may look beside a running process.
  auto log = args.dry_run
               ? open_for_reading(wf.runtime.data_dir)
               : storage::event_log::open(
                   storage::log_options::writer(wf.runtime.data_dir, wf.runtime.durability), error);
  if (!log) {
    if (!error.empty())
      std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  runtime::definition_catalog definitions{wf};
  std::vector<runtime::migration> plans;
  auto st = runtime::plan_migrations(*log, definitions, wf, args.workflow,
                                     {args.saga, args.from, {}}, storage::now_us(), plans);
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (!args.dry_run)
    if (int status = write_migrations(*log, definitions, plans); status != 0)
      return status;
  return report_migrations(plans, wf, args.dry_run, args.json);
}

} // namespace nexus::app
