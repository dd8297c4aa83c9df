#include <cstdio>
#include <iostream>

#include "app/commands.hpp"
#include "app/log_queries.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/json_writer.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// A rate for people: "42.0%", or "-" below the minimum of calls.
std::string rate(double r) {
  if (r < 0)
    return "-";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", r);
  return buf;
}

} // namespace

int breakers(const breakers_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  std::vector<std::vector<std::string>> table{
    {"RESOURCE", "STATE", "FAILURE RATE", "SLOW CALL RATE", "CALLS", "NEXT TRIAL", "UPDATED"}};
  auto st = log->for_each_breaker([&](std::string_view resource, const storage::breaker_row& row) {
    auto next_trial = row.open_until_us != 0 ? storage::format_timestamp(row.open_until_us) : "";
    if (args.json) {
      std::cout << breaker_json(resource, row) << '\n';
    } else {
      table.push_back({std::string{resource}, row.state, rate(row.failure_rate),
                       rate(row.slow_call_rate), std::to_string(row.calls),
                       next_trial.empty() ? "-" : next_trial,
                       storage::format_timestamp(row.updated_us)});
    }
    return true;
  });
  if (!st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (!args.json)
    print_table(
      std::cout, table,
      [&](std::size_t r, std::size_t c) {
        auto& state = table[r + 1][1];
        return c != 1             ? colour::none
               : state == "closed" ? colour::green
               : state == "half_open" ? colour::yellow
                                      : colour::red;
      },
      stdout_colours());
  return 0;
}

} // namespace nexus::app
