#include <iostream>
#include <map>

#include "app/commands.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/definition.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// One stored definition and the sagas on it.
struct definition_use {
  std::string saga;
  std::int64_t stored_us = 0;
  std::string json;            ///< Empty for sagas from before definitions were stored.
  std::int64_t first_used_us = 0; ///< Earliest start of a saga on it; 0: none.
  std::uint64_t running = 0, compensating = 0, failed = 0, ended = 0;
};

void count(definition_use& d, const storage::saga_row& row) {
  if (d.first_used_us == 0 || row.started_us < d.first_used_us)
    d.first_used_us = row.started_us;
  switch (row.status) {
    case storage::saga_status::running: ++d.running; break;
    case storage::saga_status::compensating: ++d.compensating; break;
    case storage::saga_status::failed: ++d.failed; break;
    default: ++d.ended; break;
  }
}

std::string when(std::int64_t us) { return us == 0 ? "-" : storage::format_timestamp(us); }

} // namespace

int definitions(const definitions_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  // By hash; sagas of a log from before definitions by "(none):<saga>".
  std::map<std::string, definition_use> uses;
  auto st = log->for_each_definition([&](const storage::stored_definition& d) {
    uses[d.hash] = {d.saga, d.stored_us, d.json};
    return true;
  });
  if (st)
    st = log->for_each_saga([&](std::string_view, const storage::saga_row& row) {
      auto key = row.definition.empty() ? "(none):" + row.saga : row.definition;
      auto& d = uses[key];
      d.saga = row.saga;
      count(d, row);
      return true;
    });
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  std::vector<std::vector<std::string>> table{
    {"DEFINITION", "SAGA", "FIRST USED", "RUNNING", "COMPENSATING", "FAILED", "ENDED"}};
  for (auto& [key, d] : uses) {
    bool stored = key.rfind("(none):", 0) != 0;
    if (args.json) {
      std::string o;
      config::json_object_writer w{o};
      w.field("definition", stored ? key : "").field("saga", d.saga)
        .field("stored", when(d.stored_us)).field("first_used", when(d.first_used_us))
        .field("running", d.running).field("compensating", d.compensating)
        .field("failed", d.failed).field("ended", d.ended);
      if (!d.json.empty())
        w.raw_field("body", d.json);
      w.finish();
      std::cout << o << '\n';
      continue;
    }
    table.push_back({stored ? std::string{config::short_hash(key)} : "(none stored)", d.saga,
                     when(d.first_used_us), std::to_string(d.running),
                     std::to_string(d.compensating), std::to_string(d.failed),
                     std::to_string(d.ended)});
  }
  if (args.json)
    return 0;
  if (uses.empty()) {
    std::cerr << "nexus: no definitions in " << args.data_dir << '\n';
    return 0;
  }
  print_table(std::cout, table, [](std::size_t, std::size_t) { return colour::none; },
              stdout_colours());
  return 0;
}

} // namespace nexus::app
