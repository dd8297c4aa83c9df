#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace nexus::config {
struct workflow;
}
namespace nexus::actors {
class engine;
}

namespace nexus::app {

/// The MCP tools (`nexus mcp`): their list for `tools/list`, and each
/// one's work on an engine. The same code answers a local `nexus mcp` and,
/// on the coordinator, a `nexus mcp --connect` (see actors::remote_tools).

/// The JSON array of the tools, each with its name, title, description,
/// input schema and hints. With a workflow, `start_saga` names its sagas
/// (an enum); without one (a client of a remote coordinator), any name.
std::string mcp_tools_json(const config::workflow* wf);

/// Whether `name` is one of the tools.
bool is_mcp_tool(std::string_view name);

/// A tool's answer: whether it failed (then `text` says why, for a person
/// or a model to act on), and otherwise its result, a JSON object.
struct tool_answer {
  bool is_error = false;
  std::string text;
};

/// Runs tool `name` with `arguments` (a JSON object's text) on `e`, whose
/// workflow is `wf`. Bad arguments are answered as failures naming the
/// argument, never thrown.
tool_answer run_mcp_tool(actors::engine& e, const config::workflow& wf, std::string_view name,
                         std::string_view arguments);

} // namespace nexus::app
