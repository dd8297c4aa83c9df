#include <iostream>

#include "app/commands.hpp"
#include "config/workflow_loader.hpp"

namespace nexus::app {

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
  return 0;
}

} // namespace nexus::app
