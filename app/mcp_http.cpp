#include "app/mcp_http.hpp"

#include <map>
#include <mutex>
#include <random>

#include <simdjson.h>

#include "app/mcp_server.hpp"
#include "app/mcp_tools.hpp"

namespace nexus::app {

namespace {

/// Sessions held at once at most; an initialize beyond is refused (503).
constexpr std::size_t max_sessions = 1024;

http_response rpc_error(unsigned status, int code, const std::string& message) {
  http_response r;
  r.status = status;
  r.body = R"({"jsonrpc":"2.0","id":null,"error":{"code":)" + std::to_string(code)
           + R"(,"message":")" + message + R"("}})";
  return r;
}

} // namespace

struct mcp_http::impl {
  struct session {
    std::mutex busy; ///< mcp_server handles one message at a time.
    mcp_server server;
    explicit session(mcp_server s) : server(std::move(s)) {}
  };

  impl(actors::engine& engine, const config::workflow& workflow) : e(engine), wf(workflow) {}
  actors::engine& e;
  const config::workflow& wf;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<session>> sessions;
  std::mt19937_64 random{std::random_device{}()};

  std::string new_id() {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(random()),
                  static_cast<unsigned long long>(random()));
    return buf;
  }
};

mcp_http::mcp_http(actors::engine& e, const config::workflow& wf)
  : impl_(std::make_unique<impl>(e, wf)) {}

mcp_http::~mcp_http() = default;

http_response mcp_http::handle(const http_request& r) {
  auto& im = *impl_;
  auto id = r.header("mcp-session-id");
  if (r.method == "DELETE") {
    std::lock_guard lock{im.mutex};
    if (im.sessions.erase(id) == 0)
      return rpc_error(404, -32001, "Session not found");
    http_response done;
    done.body.clear();
    return done;
  }
  if (r.method != "POST") {
    auto resp = rpc_error(405, -32000, "Method not allowed: POST a message, or DELETE a session");
    resp.headers.emplace_back("Allow", "POST, DELETE");
    return resp;
  }
  if (r.header("content-type").rfind("application/json", 0) != 0)
    return rpc_error(415, -32000, "Unsupported Media Type: send Content-Type: application/json");
  auto& accept = r.header("accept");
  if (accept.find("application/json") == std::string::npos
      || accept.find("text/event-stream") == std::string::npos)
    return rpc_error(406, -32000,
                     "Not Acceptable: the client must accept application/json and text/event-stream");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(r.body).get(doc))
    return rpc_error(400, -32700, "Parse error: the body is not JSON");
  std::string_view method;
  bool initialize = doc.is_object() && doc["method"].get(method) == simdjson::SUCCESS
                    && method == "initialize";
  std::shared_ptr<impl::session> s;
  std::string opened;
  {
    std::lock_guard lock{im.mutex};
    if (initialize && id.empty()) {
      if (im.sessions.size() >= max_sessions)
        return rpc_error(503, -32000, "Too many MCP sessions: end one (DELETE /mcp) first");
      opened = im.new_id();
      s = std::make_shared<impl::session>(mcp_server{
        mcp_tools_json(&im.wf), [&im](std::string_view tool, std::string_view a) {
          return run_mcp_tool(im.e, im.wf, tool, a);
        }});
      im.sessions[opened] = s;
    } else if (id.empty()) {
      return rpc_error(400, -32000, "Bad Request: Mcp-Session-Id header is required");
    } else if (auto i = im.sessions.find(id); i != im.sessions.end()) {
      s = i->second;
    } else {
      return rpc_error(404, -32001, "Session not found");
    }
  }
  std::string answer;
  {
    std::lock_guard lock{s->busy};
    auto version = r.header("mcp-protocol-version");
    bool known = version.empty();
    for (auto* v : mcp_protocol_versions)
      known = known || version == v;
    if (!known)
      return rpc_error(400, -32000, "Bad Request: unsupported MCP-Protocol-Version " + version);
    answer = s->server.handle(r.body);
  }
  http_response resp;
  if (answer.empty()) {
    resp.status = 202; // a notification or a response: nothing to answer
  } else {
    resp.body = std::move(answer);
  }
  if (!opened.empty())
    resp.headers.emplace_back("Mcp-Session-Id", opened);
  return resp;
}

} // namespace nexus::app
