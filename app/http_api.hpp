#pragma once

#include <string>

#include "app/http_server.hpp"

namespace nexus::config {
struct workflow;
}
namespace nexus::actors {
class engine;
}

namespace nexus::app {

/// The HTTP API of `nexus serve --http` (docs/http.md): its routes on a
/// running engine, through the operations the MCP tools use too. With a
/// `token`, every request but /healthz and /readyz needs `Authorization:
/// Bearer TOKEN`. On a loopback address (`loopback`), a request whose Host
/// or Origin names another host is refused (403): a web page cannot reach
/// the API by DNS rebinding. `e` and `wf` must outlive the handler.
http_handler http_api(actors::engine& e, const config::workflow& wf, std::string token,
                      bool loopback);

} // namespace nexus::app
