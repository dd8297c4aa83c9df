#pragma once

#include <memory>

#include "app/http_server.hpp"

namespace nexus::config {
struct workflow;
}
namespace nexus::actors {
class engine;
}

namespace nexus::app {

/// MCP's Streamable HTTP transport (protocol 2025-03-26 on) at `/mcp`: a
/// POSTed `initialize` opens a session (its id in `Mcp-Session-Id`), each
/// later message names it, `DELETE` ends it. Every message is answered as
/// JSON (`application/json`); the server opens no stream of its own (`GET`
/// is 405). The tools are the MCP tools, run on `e`. Thread-safe.
class mcp_http {
public:
  mcp_http(actors::engine& e, const config::workflow& wf);
  ~mcp_http();

  http_response handle(const http_request& r);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace nexus::app
