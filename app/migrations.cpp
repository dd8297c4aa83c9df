#include "app/migrations.hpp"

#include <iostream>

#include "config/definition.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

using verdict = runtime::migration::verdict;

std::string short_or_none(const std::string& hash) {
  return hash.empty() ? "(none stored)" : std::string{config::short_hash(hash)};
}

} // namespace

int write_migrations(storage::event_log& log, const runtime::definition_catalog& definitions,
                     const std::vector<runtime::migration>& plans) {
  if (auto s = definitions.store_current(log, storage::now_us()); !s) {
    std::cerr << "nexus: " << s.message() << '\n';
    return 1;
  }
  std::vector<const storage::append_request*> batch;
  for (auto& p : plans)
    if (p.what == runtime::migration::verdict::moves)
      batch.push_back(&*p.append);
  if (batch.empty())
    return 0;
  if (auto s = log.write(batch); !s) {
    std::cerr << "nexus: " << s.message() << '\n';
    return 1;
  }
  return 0;
}

int report_migrations(const std::vector<runtime::migration>& plans, const config::workflow& to,
                      bool dry_run, bool json) {
  std::size_t moved = 0, refused = 0, unchanged = 0;
  std::string sagas = "[";
  for (auto& p : plans) {
    auto& target = to.sagas.at(p.saga).hash;
    const char* result = p.what == verdict::moves       ? (dry_run ? "would_move" : "moved")
                         : p.what == verdict::unchanged ? "unchanged"
                                                        : "refused";
    (p.what == verdict::moves ? moved : p.what == verdict::unchanged ? unchanged : refused)++;
    if (json) {
      std::string o;
      config::json_object_writer w{o};
      w.field("correlation_id", p.cid).field("saga", p.saga).field("from", p.from)
        .field("to", target).field("result", result);
      if (!p.reason.empty())
        w.field("reason", p.reason);
      w.finish();
      sagas += (sagas.size() > 1 ? "," : "") + o;
      continue;
    }
    if (p.what == verdict::refused) {
      std::cout << p.reason << '\n';
      continue;
    }
    std::cout << p.cid << ": "
              << (p.what == verdict::unchanged ? "already on " + short_or_none(target)
                                               : std::string{dry_run ? "would move" : "moved"}
                                                   + " from " + short_or_none(p.from) + " to "
                                                   + short_or_none(target))
              << '\n';
    if (!p.reason.empty())
      std::cout << "  (" << p.reason << ")\n";
  }
  if (json) {
    std::string o;
    config::json_object_writer w{o};
    w.field("dry_run", dry_run)
      .field("moved", static_cast<std::uint64_t>(moved))
      .field("unchanged", static_cast<std::uint64_t>(unchanged))
      .field("refused", static_cast<std::uint64_t>(refused))
      .raw_field("sagas", sagas + "]");
    w.finish();
    std::cout << o << '\n';
  } else {
    std::cerr << "nexus: " << moved << " saga" << (moved == 1 ? "" : "s")
              << (dry_run ? " would move" : " moved") << ", " << unchanged << " already on "
              << "the new definition, " << refused << " could not be moved\n";
  }
  return refused == 0 ? 0 : 1;
}

} // namespace nexus::app
