#include <iostream>
#include <map>
#include <tuple>

#include "app/commands.hpp"
#include "app/log_queries.hpp"
#include "app/log_reader.hpp"
#include "app/terminal.hpp"
#include "config/definition.hpp"
#include "config/json_writer.hpp"
#include "runtime/latency_histogram.hpp"

namespace nexus::app {

namespace {


void print_figures(const log_figures& f) {
  bool colours = stdout_colours();
  std::cout << "sagas   " << f.sagas;
  for (auto s : listed_statuses) {
    auto i = f.by_status.find(s);
    if (i != f.by_status.end() || s != storage::saga_status::compensating)
      std::cout << "   " << paint(to_string(s), status_colour(s), colours) << ' '
                << (i == f.by_status.end() ? 0 : i->second);
  }
  std::cout << "\nevents  " << f.events << "\n";
  if (!f.definitions.empty()) {
    std::cout << "definitions";
    for (auto& [key, n] : f.definitions)
      std::cout << "   " << key.first << ' '
                << (key.second.empty() ? std::string{"(none stored)"}
                                       : std::string{config::short_hash(key.second)})
                << ": " << n;
    std::cout << '\n';
  }
  if (f.steps.empty())
    return;
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"STEP", "ATTEMPTS", "SUCCEEDED", "FAILED", "REFUSED", "SUCCESS", "P50", "P90",
                  "P99"});
  for (auto& [key, s] : f.steps) {
    char rate[16];
    std::snprintf(rate, sizeof(rate), "%.1f%%", s.success_rate());
    auto ms = [&](double q) {
      return s.latency.count() == 0
               ? std::string{"-"}
               : human_duration(static_cast<std::int64_t>(s.latency.quantile(q)));
    };
    rows.push_back({std::get<0>(key) + "/" + std::get<1>(key)
                      + (std::get<2>(key) ? " (compensation)" : ""),
                    std::to_string(s.attempts), std::to_string(s.succeeded),
                    std::to_string(s.failed), std::to_string(s.refused),
                    s.succeeded + s.failed == 0 ? "-" : rate, ms(0.50), ms(0.90), ms(0.99)});
  }
  std::cout << '\n';
  app::print_table(std::cout, rows, nullptr, colours);
}

} // namespace

int stats(const stats_args& args) {
  auto log = open_for_reading(args.data_dir);
  if (!log)
    return 1;
  log_figures f;
  if (auto st = gather_figures(*log, f); !st) {
    std::cerr << "nexus: " << st.message() << '\n';
    return 1;
  }
  if (args.json)
    std::cout << figures_json(f) << '\n';
  else
    print_figures(f);
  return 0;
}

} // namespace nexus::app
