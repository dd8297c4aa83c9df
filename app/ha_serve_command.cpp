// `nexus serve` as one of a workflow's replicated coordinators (cluster.ha,
// docs/ha.md): a loop over what the node's campaign in etcd says. While
// another leads, the node copies the leader's log and its HTTP API sends
// each request there (307) or, with no leader known, asks to come back
// (503, Retry-After); while it leads, it runs the engine on its log, which
// resumes every unfinished saga, and the HTTP API is the engine's.
#include "app/ha_serve.hpp"

#include <atomic>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include <pthread.h>

#include "actors/engine.hpp"
#include "actors/ha/node.hpp"
#include "app/http_api.hpp"
#include "config/json_writer.hpp"
#include "runtime/logging.hpp"

namespace nexus::app {

namespace {

/// What the HTTP API is now: the engine's, or a pointer to the leader.
class http_switch {
public:
  http_switch(std::uint32_t lease_ms, bool tls, std::string token)
    : retry_s_((lease_ms + 999) / 1000), tls_(tls), token_(std::move(token)) {}

  /// What GET /v1/cluster answers while not leading.
  void state(std::string json) {
    std::lock_guard<std::mutex> lock{m_};
    state_ = std::move(json);
  }

  void lead(http_handler api) {
    std::lock_guard<std::mutex> lock{m_};
    api_ = std::make_shared<http_handler>(std::move(api));
  }
  /// Not leading: requests go to `leader` (its HTTP HOST:PORT; "": none known).
  void follow(std::string leader_node, std::string leader) {
    std::lock_guard<std::mutex> lock{m_};
    api_.reset();
    leader_node_ = std::move(leader_node);
    leader_ = std::move(leader);
  }

  http_handler handler() {
    return [this](http_request&& req, http_reply reply) {
      std::shared_ptr<http_handler> api;
      std::string leader, node, state;
      {
        std::lock_guard<std::mutex> lock{m_};
        api = api_;
        leader = leader_;
        node = leader_node_;
        state = state_;
      }
      if (api)
        return (*api)(std::move(req), std::move(reply));
      if (req.path == "/healthz")
        return reply({200, "application/json", R"({"status":"ok","role":"follower"})", {}, {}});
      // Each coordinator tells where it stands itself (nexus cluster status).
      if (req.path == "/v1/cluster" && req.method == "GET") {
        if (!token_.empty() && req.header("authorization") != "Bearer " + token_) {
          auto r = problem(401, "Unauthorized", "this server needs Authorization: Bearer TOKEN");
          r.headers.emplace_back("WWW-Authenticate", "Bearer");
          return reply(std::move(r));
        }
        return reply({200, "application/json", std::move(state), {}, {}});
      }
      if (leader.empty()) {
        auto r = problem(503, "No leader", "no coordinator of this cluster leads now: one takes "
                         "over within about a lease; ask again");
        r.headers.emplace_back("Retry-After", std::to_string(retry_s_));
        return reply(std::move(r));
      }
      auto location = std::string{tls_ ? "https://" : "http://"} + leader + req.target;
      auto r = problem(307, "Not the leader", "this coordinator follows " + node
                       + ", which takes requests at " + location);
      r.headers.emplace_back("Location", location);
      reply(std::move(r));
    };
  }

private:
  std::mutex m_;
  std::shared_ptr<http_handler> api_;
  std::string leader_node_, leader_, state_ = "{}";
  std::uint32_t retry_s_;
  bool tls_;
  std::string token_;
};

} // namespace

int serve_replicated(const serve_args& args, const config::workflow& wf,
                     actors::run_options opts, const http_settings* http,
                     const std::string& http_token, const sigset_t& stop) {
  actors::coordinator_address me;
  me.node = runtime::log_node();
  me.listen = opts.cluster.host + ":" + std::to_string(opts.cluster.port);
  http_switch api{wf.cluster.ha.lease_ms, !wf.http.tls_certificate.empty(), http_token};
  std::unique_ptr<http_server> server;
  http_settings bound;
  std::string error;
  if (http != nullptr) {
    server = std::make_unique<http_server>();
    if (!server->start(*http, api.handler(), error)) {
      std::cerr << "nexus: " << error << '\n';
      return 2;
    }
    me.http = http->host + ":" + std::to_string(server->port());
    bound = *http;
    bound.port = server->port(); // a restart keeps the port etcd names
    std::cerr << "nexus: http listening on " << me.http << std::endl;
  }
  bool loopback = http != nullptr && (http->host == "127.0.0.1" || http->host == "::1");

  actors::ha_node node{wf, me, opts.cluster.token};
  std::atomic<bool> stopping{false};
  std::atomic<bool> longer_log_seen{false};
  opts.replication.on_longer_log = [&](const std::string& follower) {
    runtime::log(spdlog::level::warn, {}, "follower {} holds a longer log: leaving leadership to it",
                 follower);
    longer_log_seen = true;
    node.wake();
  };
  int sig = 0;
  std::thread signals{[&] {
    sigwait(&stop, &sig);
    stopping = true;
    node.wake();
  }};

  int status = 0;
  runtime::run_summary summary;
  std::unique_ptr<actors::engine> engine;
  actors::leadership_view view;
  std::string followed; ///< "node@epoch" of the leader followed now.
  std::int64_t reported = 0; ///< The epoch whose leader was told where this log ends.
  std::string unreachable; ///< Logged once per leader that cannot be reached.
  auto step_down = [&] {
    // Requests in flight may hold the engine: the server stops first.
    api.follow({}, {});
    if (server)
      server->stop();
    summary = engine->wait_for(std::chrono::milliseconds(0));
    engine.reset();
    if (!server)
      return true;
    // A stopped server does not start again: a new one, on the same port.
    server = std::make_unique<http_server>();
    if (!server->start(bound, api.handler(), error)) {
      std::cerr << "nexus: " << error << '\n';
      return false;
    }
    return true;
  };
  while (!stopping) {
    if (auto v = node.next(std::chrono::milliseconds(500)))
      view = std::move(*v);
    if (stopping)
      break;
    if (longer_log_seen.exchange(false) && engine) {
      // A follower missed the gathering (cut off then) and holds batches
      // this leader lacks: it leads instead.
      node.yield();
      view.role = runtime::leadership_role::candidate;
    }
    if (view.role == runtime::leadership_role::leader) {
      if (!engine) {
        api.follow({}, {}); // 503 until it serves
        followed.clear();
        // Nothing is written before enough followers have shown their logs
        // and none holds a batch this node lacks.
        auto heard = node.gather(view.epoch);
        if (!heard.longer.empty()) {
          runtime::log(spdlog::level::warn, {}, "follower {} holds a longer log: leaving "
                       "leadership to it", heard.longer);
          node.yield();
          view.role = runtime::leadership_role::candidate;
          continue;
        }
        if (heard.reported < wf.cluster.ha.min_replicas)
          continue; // asked again in a moment, while it still leads
        opts.replication.epoch = static_cast<std::uint64_t>(view.epoch);
        opts.replication.min_replicas = wf.cluster.ha.min_replicas;
        engine = std::make_unique<actors::engine>(wf, opts);
        if (!engine->ok()) {
          std::cerr << "nexus: " << engine->error() << '\n';
          status = engine->exit_status();
          summary = engine->wait();
          engine.reset();
          break;
        }
        engine->lease(view.valid_until_us);
        if (server)
          api.lead(http_api(*engine, wf, http_token, loopback));
        runtime::log(spdlog::level::info, {}, "leading epoch {}: serving", view.epoch);
      } else {
        engine->lease(view.valid_until_us);
      }
      continue;
    }
    if (engine) {
      runtime::log(spdlog::level::warn, {}, "no longer leading epoch {}: stopping its sagas where "
                   "they are (the next leader resumes them)", opts.replication.epoch);
      if (!step_down()) {
        status = 2;
        break;
      }
    }
    auto leader = actors::coordinator_address::from_json(view.leader);
    {
      auto held = node.held();
      std::string state;
      config::json_object_writer w{state};
      w.field("node", me.node)
        .field("role", runtime::to_string(view.role))
        .field("epoch", static_cast<std::int64_t>(view.epoch))
        .field("position", held.second)
        .field("leader", leader ? leader->node : std::string{})
        .field("leader_http", leader ? leader->http : std::string{});
      w.finish();
      api.state(std::move(state));
    }
    if (!leader || view.role != runtime::leadership_role::follower) {
      api.follow({}, {});
      continue;
    }
    api.follow(leader->node, leader->http);
    if (reported != view.epoch) {
      node.report(view.epoch); // the new leader waits for it
      reported = view.epoch;
    }
    auto key = leader->node + "@" + std::to_string(view.epoch);
    if (key == followed)
      continue;
    bool fatal = false;
    if (node.follow(*leader, error, fatal)) {
      followed = key;
      unreachable.clear();
    } else if (fatal) {
      std::cerr << "nexus: " << error << '\n';
      status = 1;
      break;
    } else if (unreachable != key) {
      runtime::log(spdlog::level::warn, {}, "{}; trying again", error);
      unreachable = key;
    }
  }

  if (stopping)
    runtime::log(spdlog::level::info, {}, "{}: taking no more sagas; running ones have {} s to end",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT", args.grace_seconds);
  else
    pthread_kill(signals.native_handle(), SIGTERM); // its sigwait returns
  signals.join();
  if (server)
    server->stop();
  if (engine) {
    summary = engine->wait_for(std::chrono::seconds(args.grace_seconds));
    engine.reset();
  }
  if (status != 0)
    return status;
  // The last term it led, if any: earlier terms' sagas went on elsewhere.
  return report_end(args, summary);
}

} // namespace nexus::app
