#include <algorithm>
#include <iostream>

#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "app/migrations.hpp"
#include "config/definition.hpp"
#include "runtime/migration.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/rebuild.hpp"
#include "storage/correlation_id.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

// Every saga is checked before anything is written, and all are reopened in
// one write, so a bad ID anywhere leaves every saga as it was. Each is
// reopened on the definition it runs on; with --migrate, first moved to the
// workflow's (all of them, or none if one cannot move). Then a run resumes
// them, with any other unfinished saga in the log, to their end.
int retry(const retry_args& given) {
  auto args = given;
  std::sort(args.cids.begin(), args.cids.end());
  args.cids.erase(std::unique(args.cids.begin(), args.cids.end()), args.cids.end());
  config::workflow wf;
  if (!load_or_report(args.workflow, {args.data_dir, args.log_level}, wf))
    return 2;
  for (auto& cid : args.cids)
    if (!storage::valid_correlation_id(cid)) {
      std::cerr << "nexus: " << storage::correlation_id_problem(cid) << '\n';
      return 2;
    }
  {
    std::string error;
    auto log = storage::event_log::open(
      storage::log_options::writer(wf.runtime.data_dir, wf.runtime.durability), error);
    if (!log) {
      std::cerr << "nexus: " << error << '\n';
      return 1;
    }
    runtime::definition_catalog definitions{wf};
    std::vector<storage::append_request> reopen;
    auto prepare = [&] {
      reopen.clear();
      for (auto& cid : args.cids) {
        auto req = runtime::prepare_reopen(*log, definitions, cid, storage::now_us(), error);
        if (!req) {
          std::cerr << "nexus: " << error << '\n';
          return false;
        }
        reopen.push_back(std::move(*req));
      }
      return true;
    };
    if (!prepare())
      return 2;
    if (args.migrate) {
      // All or none: a saga that cannot move leaves every one as it was.
      std::vector<runtime::migration> plans;
      auto st = runtime::plan_migrations(*log, definitions, wf, args.workflow, {"", "", args.cids},
                                         storage::now_us(), plans);
      if (!st) {
        std::cerr << "nexus: " << st.message() << '\n';
        return 1;
      }
      bool refused = false;
      for (auto& p : plans)
        if (p.what == runtime::migration::verdict::refused) {
          std::cerr << "nexus: " << p.reason << '\n';
          refused = true;
        }
      if (refused) {
        std::cerr << "nexus: nothing was migrated or retried\n";
        return 1;
      }
      if (int status = write_migrations(*log, definitions, plans); status != 0)
        return status;
      for (auto& p : plans)
        if (p.what == runtime::migration::verdict::moves)
          std::cerr << "nexus: saga " << p.cid << ": moved to definition "
                    << config::short_hash(wf.sagas.at(p.saga).hash) << '\n';
      if (!prepare()) // on the definitions they now run on
        return 2;
    }
    std::vector<const storage::append_request*> batch;
    for (auto& r : reopen)
      batch.push_back(&r);
    if (auto s = log->write(batch); !s) {
      std::cerr << "nexus: " << s.message() << '\n';
      return 1;
    }
    for (auto& cid : args.cids)
      std::cerr << "nexus: saga " << cid << ": compensation reopened\n";
  }
  return run_and_report(wf, {}, args.json, true);
}

} // namespace nexus::app
