#include "app/mcp_server.hpp"

#include <simdjson.h>

#include "config/json_syntax.hpp"
#include "config/json_writer.hpp"
#include "app/versions.hpp"

namespace nexus::app {

namespace {

// JSON-RPC 2.0's error codes, and MCP's use of the server range.
constexpr int parse_error = -32700;
constexpr int invalid_request = -32600;
constexpr int method_not_found = -32601;
constexpr int invalid_params = -32602;
constexpr int not_initialized = -32002;

/// `id`: the request's id as JSON (a string or a number), or "null".
std::string error_reply(std::string_view id, int code, std::string_view message) {
  std::string err, out;
  config::json_object_writer e{err};
  e.field("code", code).field("message", message);
  e.finish();
  config::json_object_writer w{out};
  w.field("jsonrpc", "2.0").raw_field("id", id).raw_field("error", err);
  w.finish();
  return out;
}

std::string result_reply(std::string_view id, std::string_view result) {
  std::string out;
  config::json_object_writer w{out};
  w.field("jsonrpc", "2.0").raw_field("id", id).raw_field("result", result);
  w.finish();
  return out;
}

/// The id of a request as JSON: a string or an integer (MCP forbids null);
/// empty if it has another type.
std::string id_json(simdjson::dom::element id) {
  std::string out;
  std::string_view s;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  if (!id.get_string().get(s))
    config::append_json_string(out, s);
  else if (!id.get_int64().get(i))
    out = std::to_string(i);
  else if (!id.get_uint64().get(u))
    out = std::to_string(u);
  return out;
}

std::string server_info() {
  std::string out;
  config::json_object_writer w{out};
  w.field("name", "nexus").field("title", "Nexus").field("version", app::nexus_version);
  w.finish();
  return out;
}

constexpr const char* instructions =
  "Nexus runs sagas: ordered steps that each either succeed or are compensated, written to a "
  "durable event log before each next command. start_saga starts one and returns its "
  "correlation ID; get_saga polls it (status running or compensating until it ends completed, "
  "compensated, failed or cancelled); cancel_saga rolls one back; retry_saga resumes a failed "
  "compensation; list_sagas, breaker_status and stats show the rest.";

} // namespace

mcp_server::mcp_server(std::string tools_json, tool_runner run)
  : tools_json_(std::move(tools_json)), run_(std::move(run)) {}

std::string mcp_server::too_large(std::size_t bytes, std::size_t limit) const {
  return error_reply("null", invalid_request,
                     "message too large: " + std::to_string(bytes) + " bytes or more, over the "
                     "limit of " + std::to_string(limit) + " (nexus mcp --max-message-bytes)");
}

std::string mcp_server::handle(std::string_view line) {
  using namespace simdjson;
  thread_local dom::parser parser;
  dom::element doc;
  if (auto e = parser.parse(line.data(), line.size()).get(doc)) {
    config::json_syntax_error at;
    if (config::find_json_syntax_error(line, at))
      return error_reply("null", parse_error, "Parse error: invalid JSON at column "
                                                + std::to_string(at.column) + ": " + at.message);
    return error_reply("null", parse_error,
                       std::string{"Parse error: cannot take this JSON: "} + error_message(e));
  }
  if (doc.is_array())
    return error_reply("null", invalid_request,
                       "Invalid Request: batches are not supported: send one message per line");
  dom::object msg;
  if (doc.get_object().get(msg))
    return error_reply("null", invalid_request, "Invalid Request: expected a JSON-RPC object");

  std::string id;
  dom::element id_element;
  bool has_id = !msg.at_key("id").get(id_element);
  if (has_id) {
    id = id_json(id_element);
    if (id.empty())
      return error_reply("null", invalid_request,
                         "Invalid Request: id must be a string or an integer");
  }
  std::string_view version;
  if (msg.at_key("jsonrpc").get_string().get(version) || version != "2.0")
    return error_reply(has_id ? id : "null", invalid_request,
                       "Invalid Request: jsonrpc must be \"2.0\"");
  std::string_view method;
  dom::element method_element;
  if (msg.at_key("method").get(method_element)) {
    // A response to a request of ours: this server sends none, so it is
    // not waited for. Anything else is no message at all.
    if (has_id && (!msg.at_key("result").error() || !msg.at_key("error").error()))
      return {};
    return error_reply(has_id ? id : "null", invalid_request, "Invalid Request: no method");
  }
  if (method_element.get_string().get(method))
    return error_reply(has_id ? id : "null", invalid_request,
                       "Invalid Request: method must be a string");
  dom::element params;
  bool has_params = !msg.at_key("params").get(params);
  if (has_params && !params.is_object() && !params.is_array())
    return has_id ? error_reply(id, invalid_params, "Invalid params: params must be an object")
                  : std::string{};

  if (!has_id) // a notification: initialized, cancelled, progress... none is answered
    return {};

  if (method == "ping")
    return result_reply(id, "{}");
  if (method == "initialize") {
    if (!version_.empty())
      return error_reply(id, invalid_request, "Invalid Request: already initialized");
    std::string_view asked;
    if (!has_params || params.at_key("protocolVersion").get_string().get(asked))
      return error_reply(id, invalid_params, "Invalid params: protocolVersion: expected a string");
    // The version asked for if this server speaks it, else its newest:
    // the client then decides whether it can go on.
    version_ = mcp_protocol_versions[0];
    for (auto* v : mcp_protocol_versions)
      if (asked == v)
        version_ = v;
    std::string out;
    config::json_object_writer w{out};
    w.field("protocolVersion", version_)
      .raw_field("capabilities", R"({"tools":{"listChanged":false}})")
      .raw_field("serverInfo", server_info())
      .field("instructions", instructions);
    w.finish();
    return result_reply(id, out);
  }
  if (version_.empty())
    return error_reply(id, not_initialized,
                       "Server not initialized: send initialize first (method " + std::string{method}
                         + ")");
  if (method == "tools/list") {
    // All tools fit in one page: a cursor, whatever it is, ends the list.
    return result_reply(id, "{\"tools\":" + tools_json_ + "}");
  }
  if (method == "tools/call") {
    std::string_view name;
    if (!has_params || !params.is_object() || params.at_key("name").get_string().get(name))
      return error_reply(id, invalid_params, "Invalid params: name: expected the tool's name");
    if (!is_mcp_tool(name))
      return error_reply(id, invalid_params, "Unknown tool: " + std::string{name});
    std::string arguments = "{}";
    dom::element args;
    if (!params.at_key("arguments").get(args)) {
      if (!args.is_object())
        return error_reply(id, invalid_params, "Invalid params: arguments: expected an object");
      arguments = simdjson::minify(args);
    }
    auto answer = run_(name, arguments);
    std::string text, out;
    config::json_object_writer c{text};
    c.field("type", "text").field("text", answer.text);
    c.finish();
    config::json_object_writer w{out};
    w.raw_field("content", "[" + text + "]");
    if (!answer.is_error && !answer.text.empty() && answer.text.front() == '{')
      w.raw_field("structuredContent", answer.text);
    w.field("isError", answer.is_error);
    w.finish();
    return result_reply(id, out);
  }
  return error_reply(id, method_not_found, "Method not found: " + std::string{method});
}

} // namespace nexus::app
