#include "runtime/executors.hpp"

#include <exception>

#include "config/json_value.hpp"

namespace nexus::runtime {

bool output_json(std::string& text, std::string& error) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    text = "null";
    return true;
  }
  std::string compact;
  if (!config::compact_json(text, compact, error)) {
    error = "output is not JSON: " + error;
    return false;
  }
  text = std::move(compact);
  return true;
}

namespace {

outcome call_handler(const std::string& name, const step_context& c,
                     const handler_registry* handlers) {
  auto* h = handlers != nullptr ? handlers->find(name) : nullptr;
  if (h == nullptr)
    return outcome::failure(config::error_kind::permanent,
                            "no C++ handler is registered as " + name);
  try {
    return (*h)(c);
  } catch (const std::exception& e) {
    return outcome::failure(config::error_kind::permanent,
                            "handler " + name + " threw: " + e.what());
  } catch (...) {
    return outcome::failure(config::error_kind::permanent, "handler " + name + " threw");
  }
}

} // namespace

outcome run_blocking(const config::action_spec& a, const step_context& c,
                     const handler_registry* handlers) {
  outcome o;
  switch (a.kind) {
    case config::action_kind::exec:
      o = run_exec(a.exec, c);
      break;
    case config::action_kind::http:
      o = run_http(a.http, c);
      break;
    case config::action_kind::handler:
      o = call_handler(a.handler, c, handlers);
      break;
    case config::action_kind::simulate:
      return outcome::failure(config::error_kind::permanent,
                              "a simulated step does not block: run it with simulate()");
    case config::action_kind::sleep:
    case config::action_kind::wait:
      return outcome::failure(config::error_kind::permanent,
                              std::string{to_string(a.kind)}
                                + " steps are run by their saga, not by a stage");
  }
  std::string why;
  if (o.ok && !output_json(o.output, why))
    return outcome::failure(config::error_kind::permanent,
                            std::string{to_string(a.kind)} + " step " + c.step + ": " + why);
  return o;
}

} // namespace nexus::runtime
