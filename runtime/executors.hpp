#pragma once

#include "config/workflow.hpp"
#include "runtime/outcome.hpp"
#include "runtime/step_context.hpp"

namespace nexus::runtime {

/// Runs an `exec` action: the program in its own process group, the step's
/// JSON on stdin, its stdout (at most `max_output_bytes`) as the output.
/// The outcome comes from the program's exit status and output, once the
/// program itself has exited: whatever is then left in its process group
/// (a background child still holding its stdout) is killed. Past
/// `c.timeout_ms` the whole process group is killed, even if the program
/// closed its pipes, and the attempt fails with kind `timeout`. What the
/// program writes to stderr is logged with the correlation ID. Blocks
/// until the program has ended, `c.timeout_ms` and a short reaping grace
/// at most.
outcome run_exec(const config::exec_action& a, const step_context& c);

/// Runs an `http` action: POSTs the step's JSON with `Idempotency-Key` and
/// `X-Correlation-ID` headers, within `c.timeout_ms`. Blocks.
outcome run_http(const config::http_action& a, const step_context& c);

/// Runs one attempt of a blocking action (exec, http or a handler from
/// `handlers`, which may be null) and checks what it returned: an output
/// that is not one JSON value fails the attempt permanently, since the
/// output is stored in the event log as JSON.
outcome run_blocking(const config::action_spec& a, const step_context& c,
                     const handler_registry* handlers);

/// Makes `text` a step's output: one JSON value, minified (no line breaks
/// inside an event), or "null" if it is blank. False, with `error` saying
/// why, if it is not JSON.
bool output_json(std::string& text, std::string& error);

} // namespace nexus::runtime
