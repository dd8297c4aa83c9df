#include "app/http_api.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include <simdjson.h>

#include "actors/engine.hpp"
#include "app/mcp_http.hpp"
#include "app/metrics.hpp"
#include "app/web_console.hpp"
#include "app/saga_operations.hpp"
#include "config/json_syntax.hpp"
#include "config/json_writer.hpp"
#include "config/workflow.hpp"
#include "storage/correlation_id.hpp"
#include "storage/event.hpp"
#include "storage/event_log.hpp"

namespace nexus::app {

extern const std::string_view openapi_json; // docs/openapi.json, compiled in

namespace {

using kind = op_result::kind;

http_response json(unsigned status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// An operation's result as an HTTP response.
http_response respond(op_result r, unsigned ok_status = 200) {
  switch (r.what) {
    case kind::done:
      return json(ok_status, std::move(r.json));
    case kind::started:
      return json(201, std::move(r.json));
    case kind::duplicate:
      return json(200, std::move(r.json));
    case kind::accepted:
      return json(202, std::move(r.json));
    case kind::bad_request:
      return problem(400, "Bad request", r.detail, r.field);
    case kind::not_found: // what is missing is named in the path, not a field of the body
      return problem(404, "Not found", r.detail);
    case kind::conflict:
      return problem(409, "Conflict", r.detail, r.field);
    case kind::unavailable:
      break;
  }
  return problem(503, "Unavailable", r.detail);
}

/// The path's segments: "/v1/sagas/ord-1" -> {"v1", "sagas", "ord-1"}.
std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 1;
  while (at <= path.size()) {
    auto slash = path.find('/', at);
    auto end = slash == std::string::npos ? path.size() : slash;
    out.push_back(path.substr(at, end - at));
    at = end + 1;
  }
  if (!out.empty() && out.back().empty())
    out.pop_back(); // a trailing slash
  return out;
}

/// A whole-number query parameter in [lo, hi], or `fallback` when absent.
std::optional<std::uint64_t> number(const http_request& r, const std::string& key,
                                    std::uint64_t lo, std::uint64_t hi, std::uint64_t fallback,
                                    http_response& bad) {
  auto i = r.query.find(key);
  if (i == r.query.end())
    return fallback;
  std::uint64_t n = 0;
  auto& text = i->second;
  bool digits = !text.empty() && text.size() <= 19
                && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits)
    n = std::stoull(text);
  if (!digits || n < lo || n > hi) {
    bad = problem(400, "Bad request",
                  key + ": expected a whole number from " + std::to_string(lo) + " to "
                    + std::to_string(hi) + ", got \"" + text + "\"",
                  "/" + key);
    return std::nullopt;
  }
  return n;
}

std::optional<std::string> text(const http_request& r, const std::string& key) {
  auto i = r.query.find(key);
  if (i == r.query.end())
    return std::nullopt;
  return i->second;
}

/// A start's body: `{"input": {...}, "correlation_id": "..."}`, both optional.
struct start_body {
  std::string input = "{}";
  std::optional<std::string> cid;
};

/// A request's JSON body: an object of the `allowed` keys only (an empty
/// body is an empty object), valid until the next body is parsed on this
/// thread. `what` names the request in errors ("a signal").
std::optional<simdjson::dom::object> parse_body(const http_request& r, const std::string& what,
                                                std::initializer_list<std::string_view> allowed,
                                                http_response& bad) {
  // One parser per I/O thread, its buffers kept from request to request.
  thread_local simdjson::dom::parser parser;
  auto type = r.header("content-type");
  if (!r.body.empty() && type.rfind("application/json", 0) != 0) {
    bad = problem(415, "Unsupported media type",
                  what + "'s body is JSON: send Content-Type: application/json"
                    + (type.empty() ? std::string{} : ", not " + type));
    return std::nullopt;
  }
  simdjson::dom::element doc;
  if (parser.parse(r.body.empty() ? std::string_view{"{}"} : std::string_view{r.body}).get(doc)) {
    config::json_syntax_error where;
    bad = problem(400, "Bad JSON",
                  config::find_json_syntax_error(r.body, where)
                    ? "the body is not JSON: line " + std::to_string(where.line) + ", column "
                        + std::to_string(where.column) + ": " + where.message
                    : std::string{"the body is not JSON this server can take"});
    return std::nullopt;
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) {
    bad = problem(400, "Bad request", "the body must be a JSON object", "");
    return std::nullopt;
  }
  for (auto field : obj) {
    if (std::find(allowed.begin(), allowed.end(), field.key) != allowed.end())
      continue;
    std::string expected;
    for (auto k : allowed)
      expected += (expected.empty() ? "" : ", ") + std::string{k};
    bad = problem(400, "Bad request",
                  "unknown field \"" + std::string{field.key} + "\" (expected " + expected + ")",
                  "/" + std::string{field.key});
    return std::nullopt;
  }
  return obj;
}

std::optional<start_body> parse_start(const http_request& r, http_response& bad) {
  auto obj = parse_body(r, "a start", {"input", "correlation_id"}, bad);
  if (!obj)
    return std::nullopt;
  start_body out;
  for (auto field : *obj) {
    if (field.key == "input") {
      if (!field.value.is_object()) {
        bad = problem(400, "Bad request", "input: expected a JSON object", "/input");
        return std::nullopt;
      }
      out.input = simdjson::minify(field.value);
    } else {
      std::string_view s;
      if (field.value.get_string().get(s)) {
        bad = problem(400, "Bad request", "correlation_id: expected a string", "/correlation_id");
        return std::nullopt;
      }
      out.cid = std::string{s};
    }
  }
  return out;
}

http_response method_not_allowed(const std::string& allowed) {
  auto r = problem(405, "Method not allowed", "this route takes " + allowed);
  r.headers.emplace_back("Allow", allowed);
  return r;
}

class api : public std::enable_shared_from_this<api> {
public:
  api(actors::engine& e, const config::workflow& wf, std::string token, bool loopback)
    : e_(e), wf_(wf), token_(std::move(token)), loopback_(loopback), mcp_(e, wf) {}

  app::metrics& metrics() const { return metrics_; }

  /// The answer to `r`, or, for a request that waits (`?wait`), nothing
  /// yet: `reply` gets it later.
  std::optional<http_response> handle(const http_request& r, const http_reply& reply) const {
    if (loopback_ && (!local_host(r.header("host"), false) || !local_host(r.header("origin"), true)))
      return problem(403, "Forbidden",
                     "this server listens on a loopback address: it takes requests for "
                     "localhost, 127.0.0.1 or [::1] only (Host " + r.header("host") + ", Origin "
                       + r.header("origin") + ")");
    // The console's files hold no data (its calls go through the API, with
    // the token the user gives it): served without one.
    if (r.method == "GET")
      if (auto file = console_file(r.path))
        return file;
    auto path = segments(r.path);
    if (path.size() == 1 && path[0] == "healthz")
      return r.method == "GET" ? json(200, R"({"status":"serving"})") : method_not_allowed("GET");
    if (path.size() == 1 && path[0] == "readyz")
      return r.method == "GET" ? ready() : method_not_allowed("GET");
    if (!token_.empty() && r.header("authorization") != "Bearer " + token_) {
      auto p = problem(401, "Unauthorized",
                       r.header("authorization").empty()
                         ? "this server needs Authorization: Bearer TOKEN (http.token)"
                         : "the bearer token is not this server's");
      p.headers.emplace_back("WWW-Authenticate", "Bearer");
      return p;
    }
    if (path.size() == 1 && path[0] == "mcp")
      return mcp_.handle(r);
    if (path.size() == 1 && path[0] == "metrics") {
      if (r.method != "GET")
        return method_not_allowed("GET");
      http_response resp;
      resp.content_type = metrics_content_type;
      resp.body = metrics_.scrape(e_);
      return resp;
    }
    if (path.empty() || path[0] != "v1")
      return not_found(r);
    path.erase(path.begin());
    if (path.size() == 1 && path[0] == "breakers")
      return r.method == "GET" ? respond(breakers(e_, wf_, text(r, "resource")))
                               : method_not_allowed("GET");
    if (path.size() == 1 && path[0] == "stats")
      return r.method == "GET" ? respond(stats(e_)) : method_not_allowed("GET");
    if (path.size() == 1 && path[0] == "cluster")
      return r.method == "GET" ? respond(cluster_state(e_)) : method_not_allowed("GET");
    if (path.size() == 1 && path[0] == "openapi.json")
      return r.method == "GET" ? json(200, std::string{openapi_json}) : method_not_allowed("GET");
    if (path.size() == 1 && path[0] == "events")
      return r.method == "GET" ? all_events(r) : method_not_allowed("GET");
    if (path.empty() || path[0] != "sagas")
      return not_found(r);
    if (path.size() == 1)
      return r.method == "GET" ? list(r) : method_not_allowed("GET");
    const auto& name = path[1];
    if (path.size() == 2 && r.method == "POST")
      return start(r, name, reply);
    if (path.size() == 2)
      return r.method == "GET" ? get(r, name, reply) : method_not_allowed("GET, POST");
    if (!storage::valid_correlation_id(name))
      return problem(400, "Bad request",
                     "correlation ID: " + storage::correlation_id_problem(name), "");
    if (path.size() == 3 && path[2] == "events")
      return r.method == "GET" ? events(r, name) : method_not_allowed("GET");
    if (path.size() == 3 && path[2] == "cancel")
      return r.method == "POST" ? respond(cancel_saga(e_, name)) : method_not_allowed("POST");
    if (path.size() == 3 && path[2] == "retry")
      return r.method == "POST" ? respond(retry_saga(e_, name)) : method_not_allowed("POST");
    if (path.size() == 4 && path[2] == "signals")
      return r.method == "POST" ? signal(r, name, path[3], reply) : method_not_allowed("POST");
    return not_found(r);
  }

private:
  static http_response not_found(const http_request& r) {
    return problem(404, "Not found", "no route " + r.path + " (see /v1/openapi.json)");
  }

  /// Ready once every unfinished saga found in the log is back and the
  /// log takes writes (a write that failed, such as on a full disk, stops
  /// the run: not ready, saying why).
  http_response ready() const {
    if (!e_.ok())
      return problem(503, "Not ready", e_.error());
    auto counts = e_.counts();
    if (!counts.error.empty())
      return problem(503, "Not ready", counts.error);
    if (counts.to_resume > 0)
      return problem(503, "Not ready",
                     "recovering: " + std::to_string(counts.to_resume)
                       + " unfinished sagas from the log are still to resume");
    return json(200, R"({"status":"ready"})");
  }

  /// Answered once the start is durable, holding no thread meanwhile.
  std::optional<http_response> start(const http_request& r, const std::string& saga,
                                     const http_reply& reply) const {
    http_response bad;
    auto body = parse_start(r, bad);
    if (!body)
      return bad;
    if (!body->cid && !r.header("idempotency-key").empty())
      body->cid = r.header("idempotency-key");
    // W3C Trace Context: the saga joins the caller's trace (a malformed
    // traceparent is ignored, as the spec says, and the saga starts its own).
    start_saga_then(e_, wf_, saga, body->input, body->cid,
                    [reply](op_result result, const std::string& cid) {
                      auto resp = respond(std::move(result));
                      if (resp.status == 201 || resp.status == 200)
                        resp.headers.emplace_back("Location", "/v1/sagas/" + cid);
                      reply(std::move(resp));
                    },
                    r.header("traceparent"), r.header("tracestate"));
    return std::nullopt;
  }

  /// Answered once the signal is durable, holding no thread meanwhile.
  std::optional<http_response> signal(const http_request& r, const std::string& cid,
                                      const std::string& name, const http_reply& reply) const {
    http_response bad;
    auto body = parse_body(r, "a signal", {"data", "signal_id"}, bad);
    if (!body)
      return bad;
    runtime::saga_signal s{cid, name, {}, {}};
    for (auto field : *body) {
      if (field.key == "data") {
        s.data = simdjson::minify(field.value);
        continue;
      }
      std::string_view id;
      if (field.value.get_string().get(id) || id.empty())
        return problem(400, "Bad request", "signal_id: expected a string that is not empty",
                       "/signal_id");
      s.id = std::string{id};
    }
    signal_saga_then(e_, std::move(s), [reply](op_result result) {
      reply(respond(std::move(result)));
    });
    return std::nullopt;
  }

  /// `?wait=S` holds the answer until the saga has ended or S seconds
  /// (at most 60) have passed, then answers its state.
  std::optional<http_response> get(const http_request& r, const std::string& cid,
                                   const http_reply& reply) const {
    if (!storage::valid_correlation_id(cid))
      return problem(400, "Bad request", "correlation ID: " + storage::correlation_id_problem(cid));
    http_response bad;
    auto after = number(r, "after_seq", 0, std::numeric_limits<std::int64_t>::max(), 0, bad);
    auto limit = after ? number(r, "limit", 1, max_page, default_events_page, bad) : std::nullopt;
    auto wait = limit ? number(r, "wait", 0, 60, 0, bad) : std::nullopt;
    if (!wait)
      return bad;
    if (*wait == 0)
      return respond(get_saga(e_, wf_, cid, *after, *limit));
    e_.watch(cid, std::chrono::seconds(*wait),
             [self = shared_from_this(), cid, after = *after, limit = *limit,
              reply](const std::string&) {
               reply(respond(get_saga(self->e_, self->wf_, cid, after, limit)));
             });
    return std::nullopt;
  }

  http_response events(const http_request& r, const std::string& cid) const {
    if (wants_stream(r))
      return saga_stream(r, cid);
    http_response bad;
    auto after = number(r, "after_seq", 0, std::numeric_limits<std::int64_t>::max(), 0, bad);
    auto limit = after ? number(r, "limit", 1, max_page, default_events_page, bad) : std::nullopt;
    if (!limit)
      return bad;
    return respond(saga_events(e_, cid, *after, *limit));
  }

  http_response list(const http_request& r) const {
    http_response bad;
    auto limit = number(r, "limit", 1, max_page, default_page, bad);
    if (!limit)
      return bad;
    return respond(list_sagas(e_, text(r, "status"), text(r, "saga"), *limit, text(r, "cursor")));
  }

  /// Whether a Host (`host:port`) or an Origin (`scheme://host:port`; may
  /// be absent) names this machine.
  static bool local_host(std::string value, bool origin) {
    if (value.empty())
      return origin; // HTTP/1.1 requires a Host; an Origin only browsers send
    if (origin) {
      auto scheme = value.find("://");
      if (scheme == std::string::npos)
        return false;
      value = value.substr(scheme + 3);
    }
    std::string host = value;
    if (!value.empty() && value[0] == '[') {
      host = value.substr(0, value.find(']') + 1);
    } else if (auto colon = value.find(':'); colon != std::string::npos) {
      host = value.substr(0, colon);
    }
    for (auto& c : host)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return host == "localhost" || host == "127.0.0.1" || host == "[::1]";
  }

  static bool wants_stream(const http_request& r) {
    return r.header("accept").find("text/event-stream") != std::string::npos;
  }

  static http_response event_stream() {
    http_response resp;
    resp.content_type = "text/event-stream";
    return resp;
  }

  /// One server-sent event: `id:`, then the stored event as `data:`.
  static void append_event(std::string& out, const std::string& id, std::string_view json) {
    out += "id: ";
    out += id;
    out += "\ndata: ";
    out += json;
    out += "\n\n";
  }

  /// Saga `cid`'s events as server-sent events, from after `Last-Event-ID`
  /// (or `after_seq`), until the saga has ended.
  http_response saga_stream(const http_request& r, const std::string& cid) const {
    storage::status st = storage::status::ok();
    if (!e_.log()->find_saga(cid, st))
      return st ? problem(404, "Not found", "correlation_id: no saga " + cid + " in the log")
                : problem(503, "Unavailable", st.message());
    auto from = r.header("last-event-id").empty() ? text(r, "after_seq").value_or("0")
                                                  : r.header("last-event-id");
    if (from.empty() || from.size() > 19 || from.find_first_not_of("0123456789") != std::string::npos)
      return problem(400, "Bad request",
                     "Last-Event-ID (or after_seq): expected the sequence number of an event, got \""
                       + from + "\"");
    auto resp = event_stream();
    auto next = std::make_shared<std::uint64_t>(std::stoull(from) + 1);
    auto ended = std::make_shared<bool>(false);
    resp.stream = [log = e_.log(), cid, next, ended]() -> std::optional<std::string> {
      if (*ended)
        return std::nullopt;
      std::string out;
      storage::event e;
      std::string error;
      log->read_raw(cid, *next, std::numeric_limits<std::uint64_t>::max(),
                    [&](std::uint64_t seq, std::string_view json) {
                      append_event(out, std::to_string(seq), json);
                      *next = seq + 1;
                      if (storage::decode_event(json, e, error) && storage::is_terminal(e.type))
                        *ended = true;
                      return true;
                    });
      return out;
    };
    return resp;
  }

  /// Every saga's events in the order written, as server-sent events whose
  /// id is `POSITION.INDEX` (the write batch, and the event's place in it):
  /// `Last-Event-ID` resumes after it. Never ends by itself.
  http_response all_events(const http_request& r) const {
    if (!wants_stream(r))
      return problem(406, "Not acceptable",
                     "/v1/events streams server-sent events: send Accept: text/event-stream");
    std::uint64_t position = 1, skip = 0;
    auto last = r.header("last-event-id");
    if (!last.empty()) {
      auto dot = last.find('.');
      auto digits = [](const std::string& s) {
        return !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos;
      };
      if (dot == std::string::npos || !digits(last.substr(0, dot)) || !digits(last.substr(dot + 1)))
        return problem(400, "Bad request",
                       "Last-Event-ID: expected POSITION.INDEX as this stream gave, got \"" + last
                         + "\"");
      position = std::stoull(last.substr(0, dot));
      skip = std::stoull(last.substr(dot + 1)) + 1; // events of that batch already sent
    }
    auto resp = event_stream();
    struct cursor {
      std::uint64_t position;
      std::uint64_t skip; ///< Events of batch `position` already sent.
    };
    auto at = std::make_shared<cursor>(cursor{position, skip});
    resp.stream = [log = e_.log(), at]() -> std::optional<std::string> {
      std::string out;
      std::uint64_t batch = 0, index = 0;
      bool first = true;
      log->read_in_order(at->position, [&](std::uint64_t pos, std::string_view json) {
        if (first || pos != batch) {
          batch = pos;
          index = 0;
          first = false;
        } else {
          ++index;
        }
        if (pos == at->position && index < at->skip)
          return true;
        append_event(out, std::to_string(pos) + "." + std::to_string(index), json);
        at->position = pos;
        at->skip = index + 1;
        return out.size() < (1u << 20); // a megabyte a poll at most
      });
      return out;
    };
    return resp;
  }

  actors::engine& e_;
  const config::workflow& wf_;
  std::string token_;
  bool loopback_ = false;
  mutable mcp_http mcp_;
  mutable app::metrics metrics_;
};

} // namespace

http_handler http_api(actors::engine& e, const config::workflow& wf, std::string token,
                      bool loopback) {
  auto routes = std::make_shared<api>(e, wf, std::move(token), loopback);
  return [routes](http_request&& r, http_reply reply) {
    // Counted as answered, now or (?wait) later, by the route's template.
    http_reply counted = [routes, route = route_template(r.method, r.path),
                          reply = std::move(reply)](http_response resp) {
      routes->metrics().request_answered(route, resp.status);
      reply(std::move(resp));
    };
    if (auto answer = routes->handle(r, counted))
      counted(std::move(*answer));
  };
}

} // namespace nexus::app
