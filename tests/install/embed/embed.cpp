// Nexus embedded as the README's "Embedded in a C++ program" shows: a
// handler registered by name, engine::start, start_async, cancel, wait.
// Usage: embed WORKFLOW.json DATA_DIR. Prints what each call answered and
// the run's summary, one `key value` a line, for tests/install/install_test.sh.
#include <iostream>
#include <mutex>
#include <string>

#include <nexus/actors/engine.hpp>
#include <nexus/config/workflow_loader.hpp>
#include <nexus/runtime/step_context.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: embed WORKFLOW.json DATA_DIR\n";
    return 2;
  }
  auto loaded = nexus::config::load_workflow(argv[1]);
  if (!loaded.ok()) {
    for (auto& e : loaded.errors)
      std::cerr << e.to_string() << '\n';
    return 2;
  }
  auto workflow = *loaded.value;
  workflow.runtime.data_dir = argv[2];

  nexus::runtime::handler_registry handlers;
  handlers.add("pricing", [](const nexus::runtime::step_context& c) {
    return nexus::runtime::outcome::success(R"({"price": 42, "cid": ")" + c.cid + "\"}");
  });
  nexus::actors::engine e{workflow, {"", 0, "", &handlers}};
  if (!e.ok()) {
    std::cerr << e.error() << '\n';
    return e.exit_status();
  }

  auto started = e.start("order", "ord-1", R"({"sku": "A-7"})");
  std::cout << "start ord-1 " << (started == nexus::actors::start_result::started) << '\n';

  std::mutex m;
  std::string async_end;
  e.start_async("order", "ord-2", "{}",
                [&](const std::string& cid, nexus::actors::start_result r, const std::string& status) {
                  std::lock_guard<std::mutex> lock{m};
                  async_end = cid + ":" + (r == nexus::actors::start_result::started ? "started" : "refused")
                              + ":" + status;
                });

  // A saga that waits for a signal no one sends: only a cancel ends it.
  started = e.start("approval", "hold-1", "{}");
  std::cout << "start hold-1 " << (started == nexus::actors::start_result::started) << '\n';
  auto cancelled = e.cancel("hold-1");
  std::cout << "cancel hold-1 " << (cancelled == nexus::actors::cancel_result::cancelling) << '\n';
  std::cout << "cancel nobody " << (e.cancel("nobody") == nexus::actors::cancel_result::unknown)
            << '\n';

  auto summary = e.wait();
  std::lock_guard<std::mutex> lock{m};
  std::cout << "async " << async_end << '\n';
  std::cout << "completed " << summary.completed << '\n';
  std::cout << "cancelled " << summary.cancelled << '\n';
  std::cout << "exit " << summary.exit_status << '\n';
  return summary.exit_status;
}
