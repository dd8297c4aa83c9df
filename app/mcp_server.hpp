#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "app/mcp_tools.hpp"

namespace nexus::app {

/// The Model Context Protocol over one stream of JSON-RPC 2.0 messages, one
/// per line (the stdio transport): the lifecycle (`initialize` with version
/// negotiation, `notifications/initialized`, `ping`), `tools/list` and
/// `tools/call`. It only turns lines into answers; `nexus mcp` reads and
/// writes them, and the tools run wherever `call` sends them.
///
/// Every request gets an answer, every notification none. Errors follow
/// JSON-RPC: -32700 for a line that is not JSON, -32600 for a message that
/// is not a request (or is too large), -32601 for an unknown method, -32602
/// for bad params or an unknown tool, -32002 for a request before
/// `initialize`. A tool that fails answers a result with `isError`.
class mcp_server {
public:
  /// Runs a tool: its name (one of the tools) and its arguments (a JSON
  /// object's text).
  using tool_runner = std::function<tool_answer(std::string_view tool, std::string_view arguments)>;

  /// `tools_json`: the JSON array tools/list answers (mcp_tools_json).
  mcp_server(std::string tools_json, tool_runner run);

  /// The answer to one line (without its newline), or empty for none.
  std::string handle(std::string_view line);

  /// The answer to a line of `bytes` bytes over the limit, not read.
  std::string too_large(std::size_t bytes, std::size_t limit) const;

  /// The protocol version agreed in `initialize`; empty before.
  const std::string& protocol_version() const { return version_; }

private:
  std::string tools_json_;
  tool_runner run_;
  std::string version_;
};

/// The protocol versions this server speaks, newest first.
inline constexpr const char* mcp_protocol_versions[] = {"2025-11-25", "2025-06-18", "2025-03-26",
                                                        "2024-11-05"};

} // namespace nexus::app
