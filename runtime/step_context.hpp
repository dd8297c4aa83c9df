#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "runtime/outcome.hpp"

namespace nexus::runtime {

/// What one attempt of a step, or of its compensation, is told.
struct step_context {
  std::string cid;
  std::string saga;
  std::string step;
  std::uint32_t attempt = 1;
  bool compensation = false;
  std::string idempotency_key; ///< Stable across the attempts of one step.
  std::string input;           ///< JSON: {"input": ..., "steps": {...}[, "output": ...]}.
  std::int64_t timeout_ms = 0; ///< Time left for this attempt.
  /// W3C trace context of the attempt's span (in its saga's trace), for
  /// the calls it makes: `http` steps send it, `exec` steps get it as
  /// TRACEPARENT; "" when the call carried none.
  std::string traceparent;
  std::string tracestate;
};

/// A step written in C++ by a program that embeds Nexus. It runs on a thread
/// of its stage's pool, so it may block; it must return within the step's
/// timeout or its late result is ignored. An exception it throws fails the
/// attempt permanently with the exception's text.
using step_handler = std::function<outcome(const step_context&)>;

/// The handlers a workflow's `{"kind": "handler", "name": ...}` actions
/// refer to, registered before the run starts.
class handler_registry {
public:
  /// Adds or replaces the handler called `name`.
  void add(std::string name, step_handler handler) { handlers_[std::move(name)] = std::move(handler); }

  /// The handler called `name`, or null.
  const step_handler* find(const std::string& name) const {
    auto i = handlers_.find(name);
    return i == handlers_.end() ? nullptr : &i->second;
  }

private:
  std::map<std::string, step_handler> handlers_;
};

} // namespace nexus::runtime
