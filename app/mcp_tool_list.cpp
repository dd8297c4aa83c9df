// The MCP tools as tools/list gives them: names, descriptions, input
// schemas and hints. What each one does is in mcp_tools.cpp.
#include "app/mcp_tools.hpp"

#include "config/json_writer.hpp"
#include "config/workflow.hpp"

namespace nexus::app {

namespace {

// -- the tools' descriptions ---------------------------------------------------

constexpr const char* cid_schema =
  R"({"type":"string","minLength":1,"maxLength":128,"pattern":"^[A-Za-z0-9._:-]+$",)"
  R"("description":"The saga's correlation ID"})";

constexpr const char* status_enum =
  R"(["running","compensating","completed","compensated","failed","cancelled"])";

struct tool_description {
  const char* name;
  const char* title;
  const char* description;
  bool read_only;
  bool destructive;
  bool idempotent;
};

constexpr tool_description descriptions[] = {
  {"start_saga", "Start a saga",
   "Starts a saga of the workflow with an input, under a correlation ID (given, or made up and "
   "returned). Returns once its start is durable: it then runs to an end (completed, or "
   "compensated when a step fails for good) even across a crash. An ID already in the log is "
   "never started twice. Watch it with get_saga.",
   false, false, false},
  {"get_saga", "Get a saga",
   "One saga: its definition (the hash of the steps it runs on), its status (running, "
   "compensating, completed, compensated, failed, cancelled), "
   "each step's state, attempts, output or error, the steps' outputs, and its events in order, "
   "a page at a time (after_seq, limit; next_after_seq when there are more).",
   true, false, true},
  {"list_sagas", "List sagas",
   "The sagas in the log in correlation-ID order (each with its cid, saga, status, steps done "
   "of total, last event, start and update times), a page at a time (limit; next_cursor when "
   "there are more), optionally only those with one status or of one saga definition.",
   true, false, true},
  {"cancel_saga", "Cancel a saga",
   "Cancels a running saga: it starts no new step, compensates the steps it completed in "
   "reverse order, and ends cancelled. A saga that has already ended is left as it is.",
   false, true, true},
  {"signal_saga", "Signal a saga",
   "Sends a named signal, with optional data, to a saga: a wait step for that signal ends with "
   "the data as its output (one that comes before its wait is kept until the wait starts). "
   "Answered once the signal is durable; a signal_id received before is a duplicate, stored once.",
   false, false, true},
  {"retry_saga", "Retry a failed compensation",
   "For a saga that ended failed (one of its compensations failed for good, so an operator had "
   "to look): once the cause is fixed, compensates again from where it stopped, to end "
   "compensated.",
   false, false, false},
  {"breaker_status", "Circuit breakers",
   "Each resource's circuit breaker as last recorded: state (closed, open, half_open), failure "
   "and slow-call rates, calls in its window, when an open one lets a trial call through.",
   true, false, true},
  {"stats", "Statistics",
   "Sagas counted by status; per step its attempts, successes, failures, refusals, success rate "
   "and latency percentiles; and this engine's run so far.",
   true, false, true},
};

std::string input_schema(std::string_view tool, const config::workflow* wf) {
  std::string cid = cid_schema;
  if (tool == "start_saga") {
    std::string saga = R"({"type":"string","description":"The saga's name in the workflow")";
    if (wf != nullptr) {
      saga += R"(,"enum":[)";
      bool first = true;
      for (auto& [name, _] : wf->sagas) {
        saga += first ? "" : ",";
        config::append_json_string(saga, name);
        first = false;
      }
      saga += "]";
    }
    saga += "}";
    return R"({"type":"object","properties":{"saga":)" + saga
           + R"(,"input":{"type":"object","description":"The saga's input, given to its steps"},)"
             R"("correlation_id":)"
           + cid + R"(},"required":["saga"],"additionalProperties":false})";
  }
  if (tool == "get_saga")
    return R"({"type":"object","properties":{"correlation_id":)" + cid
           + R"(,"after_seq":{"type":"integer","minimum":0,"description":"Only events after this sequence number: a page's next_after_seq"},)"
             R"("limit":{"type":"integer","minimum":1,"maximum":1000,"description":"Events per page, 100 by default"}},)"
             R"("required":["correlation_id"],"additionalProperties":false})";
  if (tool == "list_sagas")
    return std::string{R"({"type":"object","properties":{"status":{"type":"string","enum":)"}
           + status_enum
           + R"(},"saga":{"type":"string","description":"Only sagas of this definition"},)"
             R"("limit":{"type":"integer","minimum":1,"maximum":1000,"description":"Sagas per page, 50 by default"},)"
             R"("cursor":{"type":"string","description":"A page's next_cursor"}},)"
             R"("additionalProperties":false})";
  if (tool == "cancel_saga" || tool == "retry_saga")
    return R"({"type":"object","properties":{"correlation_id":)" + cid
           + R"(},"required":["correlation_id"],"additionalProperties":false})";
  if (tool == "signal_saga")
    return R"({"type":"object","properties":{"correlation_id":)" + cid
           + R"(,"signal":{"type":"string","description":"The signal's name, as a wait step names it"},)"
             R"("data":{"description":"Any JSON: the wait step's output"},)"
             R"("signal_id":{"type":"string","description":"The sender's ID: the same ID again is a duplicate"}},)"
             R"("required":["correlation_id","signal"],"additionalProperties":false})";
  if (tool == "breaker_status")
    return R"({"type":"object","properties":{"resource":{"type":"string","description":"Only this resource"}},"additionalProperties":false})";
  return R"({"type":"object","properties":{},"additionalProperties":false})";
}

} // namespace

std::string mcp_tools_json(const config::workflow* wf) {
  std::string out = "[";
  for (auto& d : descriptions) {
    std::string hints, one;
    config::json_object_writer h{hints};
    h.field("title", d.title)
      .field("readOnlyHint", d.read_only)
      .field("destructiveHint", d.destructive)
      .field("idempotentHint", d.idempotent)
      .field("openWorldHint", false);
    h.finish();
    config::json_object_writer w{one};
    w.field("name", d.name)
      .field("title", d.title)
      .field("description", d.description)
      .raw_field("inputSchema", input_schema(d.name, wf))
      .raw_field("annotations", hints);
    w.finish();
    out += (out.size() > 1 ? "," : "") + one;
  }
  return out + "]";
}

bool is_mcp_tool(std::string_view name) {
  for (auto& d : descriptions)
    if (name == d.name)
      return true;
  return false;
}

} // namespace nexus::app
