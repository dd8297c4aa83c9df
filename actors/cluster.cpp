#include "actors/cluster.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/engine.hpp"
#include "actors/stage.hpp"
#include "runtime/bulkhead.hpp"
#include "runtime/logging.hpp"
#include "actors/messages.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

bool uses_tls(caf::actor_system& sys) {
  return !sys.config().openssl_certificate.empty();
}

} // namespace

caf::expected<std::uint16_t> publish_on(caf::actor_system& sys, const caf::actor& whom,
                                        const std::string& host, std::uint16_t port) {
  if (uses_tls(sys))
    return caf::openssl::publish(whom, port, host.c_str(), true);
  return caf::io::publish(whom, port, host.c_str(), true);
}

caf::expected<caf::actor> connect_to(caf::actor_system& sys, const std::string& host,
                                     std::uint16_t port) {
  if (uses_tls(sys))
    return caf::openssl::remote_actor(sys, host, port);
  return sys.middleman().remote_actor(host, port);
}

namespace {

constexpr std::size_t no_node = std::numeric_limits<std::size_t>::max();

/// Answers the caller of a call as a stage would: a response when the call
/// was a request, else a plain message.
void answer(caf::local_actor* self, const caf::strong_actor_ptr& to, caf::message_id id,
            step_result r) {
  if (to)
    to->enqueue(caf::make_mailbox_element(self->ctrl(), id.response_id(), {}, std::move(r)),
                self->context());
}

step_result failure(const step_call& call, config::error_kind kind, std::string why,
                    std::int64_t retry_after_ms = 0) {
  step_result r{false, "", static_cast<std::uint8_t>(kind), std::move(why), retry_after_ms, {}, 0,
                false};
  return r.to(call);
}

// -- the dispatcher -----------------------------------------------------------

struct node {
  caf::actor endpoint;  ///< Takes its calls; watched: its loss is the node's.
  std::string name;
  std::unordered_set<std::string> steps;
  std::uint32_t capacity = 1;
  std::uint32_t in_flight = 0;
  bool alive = true;
  call_batch outgoing;  ///< Calls for it, sent when the dispatcher flushes.
};

/// Calls in one network message at most.
constexpr std::size_t max_batch = 256;

struct pending {
  step_call call;
  std::string key;                ///< Of its step.
  caf::strong_actor_ptr reply_to; ///< The saga.
  caf::message_id id;             ///< Of the saga's call.
  caf::actor breaker;             ///< That let it through, told the outcome; or null.
  std::uint64_t breaker_call = 0;
  std::size_t node = no_node;     ///< Where it runs; no_node while it waits.
  std::uint32_t sent = 0;         ///< Times sent to a node.
};

void flush(caf::event_based_actor* self, const caf::actor& to, call_batch& batch);

struct dispatcher_state {
  std::uint64_t bound = 0;
  std::vector<node> nodes;
  std::unordered_map<std::uint64_t, pending> calls;
  std::unordered_map<std::string, std::deque<std::uint64_t>> waiting; ///< By step key.
  std::uint64_t waiting_count = 0;
  std::uint64_t next_id = 1;
  runtime::sweep_timer sweep;
  bool flush_queued = false;
  static inline const char* name = "nexus.dispatcher";
};

using dispatcher_actor = caf::stateful_actor<dispatcher_state>;

void arm_sweep(dispatcher_actor* self) {
  if (self->state.sweep.arm())
    self->delayed_send(self, std::chrono::milliseconds(runtime::sweep_timer::interval_ms),
                       sweep_atom::value);
}

/// The node serving `key` with room and the fewest calls for its capacity.
std::size_t pick(dispatcher_state& st, const std::string& key) {
  auto best = no_node;
  double best_load = 2;
  for (std::size_t i = 0; i < st.nodes.size(); ++i) {
    auto& n = st.nodes[i];
    if (!n.alive || n.in_flight >= n.capacity || n.steps.count(key) == 0)
      continue;
    auto load = static_cast<double>(n.in_flight) / static_cast<double>(n.capacity);
    if (load < best_load) {
      best_load = load;
      best = i;
    }
  }
  return best;
}

/// Sends call `id` to a node, or leaves it waiting (at the front when it
/// had already been sent once, to a node since lost).
void dispatch(dispatcher_actor* self, std::uint64_t id) {
  auto& st = self->state;
  auto& p = st.calls.at(id);
  auto n = pick(st, p.key);
  if (n == no_node) {
    p.node = no_node;
    auto& q = st.waiting[p.key];
    if (p.sent > 0)
      q.push_front(id);
    else
      q.push_back(id);
    ++st.waiting_count;
    arm_sweep(self);
    return;
  }
  p.node = n;
  ++p.sent;
  auto& node = st.nodes[n];
  ++node.in_flight;
  // Gathered: the batch goes when the dispatcher has worked through the
  // messages now in its mailbox (or when it is full).
  node.outgoing.ids.push_back(id);
  node.outgoing.calls.push_back(p.call);
  if (node.outgoing.calls.size() >= max_batch) {
    flush(self, node.endpoint, node.outgoing);
  } else if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
  arm_sweep(self);
}

void flush(caf::event_based_actor* self, const caf::actor& to, call_batch& batch) {
  self->send(to, execute_atom::value, std::exchange(batch, {}));
}

/// Sends waiting calls of the steps `n` serves while it has room.
void drain(dispatcher_actor* self, std::size_t n) {
  auto& st = self->state;
  for (auto& key : st.nodes[n].steps) {
    auto q = st.waiting.find(key);
    while (q != st.waiting.end() && !q->second.empty() && st.nodes[n].alive
           && st.nodes[n].in_flight < st.nodes[n].capacity) {
      auto id = q->second.front();
      q->second.pop_front();
      --st.waiting_count;
      dispatch(self, id);
    }
  }
}

/// Ends call `id` with `r`: the saga and the breaker are told.
void finish(dispatcher_actor* self, std::uint64_t id, step_result r) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end())
    return;
  auto& p = it->second;
  if (p.breaker)
    self->send(p.breaker, report_atom::value, p.breaker_call, r.ok, r.kind);
  answer(self, p.reply_to, p.id, std::move(r));
  st.calls.erase(it);
}

/// Node `n`'s result of call `id`. A result for a call it no longer has
/// (the sweep gave up on it) changes nothing.
void on_result(dispatcher_actor* self, std::uint64_t id, std::size_t n, step_result&& r) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end() || it->second.node != n)
    return;
  --st.nodes[n].in_flight;
  finish(self, id, std::move(r));
}

caf::result<step_result> accept(dispatcher_actor* self, step_call&& call, caf::actor breaker,
                                std::uint64_t breaker_call) {
  auto& st = self->state;
  auto key = stage_key(call.saga, call.step);
  if (st.waiting_count >= st.bound) {
    auto r = failure(call, config::error_kind::circuit_open,
                     "every node serving " + key + " is busy and " + std::to_string(st.bound)
                       + " calls wait",
                     100);
    if (breaker)
      self->send(breaker, report_atom::value, breaker_call, false, r.kind);
    return r;
  }
  auto id = st.next_id++;
  st.calls.emplace(id, pending{std::move(call), std::move(key), self->current_sender(),
                               self->current_message_id(), std::move(breaker), breaker_call,
                               no_node, 0});
  dispatch(self, id);
  return caf::delegated<step_result>{};
}

/// The node whose endpoint is `addr`, or no_node.
std::size_t node_of(const dispatcher_state& st, const caf::actor_addr& addr) {
  for (std::size_t i = 0; i < st.nodes.size(); ++i)
    if (st.nodes[i].alive && st.nodes[i].endpoint.address() == addr)
      return i;
  return no_node;
}

caf::behavior dispatcher(dispatcher_actor* self, std::uint64_t bound) {
  self->state.bound = std::max<std::uint64_t>(1, bound);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto n = node_of(st, dm.source);
    if (n == no_node)
      return;
    st.nodes[n].alive = false;
    st.nodes[n].outgoing = {};
    std::vector<std::uint64_t> lost;
    for (auto& [id, p] : st.calls)
      if (p.node == n)
        lost.push_back(id);
    std::sort(lost.begin(), lost.end()); // oldest first
    bool left = dm.reason == caf::exit_reason::normal || dm.reason == caf::exit_reason::user_shutdown;
    if (left && lost.empty())
      runtime::log(spdlog::level::info, {}, "node {} left", st.nodes[n].name);
    else
      runtime::log(spdlog::level::warn, {}, "node {} lost ({}): {} calls in flight sent again",
                   st.nodes[n].name, caf::to_string(dm.reason), lost.size());
    for (auto id : lost) {
      auto& p = st.calls.at(id);
      runtime::log(spdlog::level::info,
                   runtime::log_context{p.call.cid, p.call.saga, p.call.step, p.call.attempt},
                   "call sent again: node {} was lost", st.nodes[n].name);
      dispatch(self, id);
    }
  });
  return {
    [=](execute_atom, step_call& call) -> caf::result<step_result> {
      return accept(self, std::move(call), nullptr, 0);
    },
    [=](execute_atom, step_call& call, caf::actor& breaker,
        std::uint64_t breaker_call) -> caf::result<step_result> {
      return accept(self, std::move(call), std::move(breaker), breaker_call);
    },
    [=](result_atom, result_batch& batch) {
      auto& st = self->state;
      auto n = node_of(st, caf::actor_cast<caf::actor_addr>(self->current_sender()));
      if (n == no_node) {
        runtime::log(spdlog::level::warn, {}, "{} results from {} refused: not a node that joined",
                     batch.ids.size(),
                     self->current_sender() ? caf::to_string(self->current_sender()->node())
                                            : std::string{"nobody"});
        return;
      }
      for (std::size_t i = 0; i < batch.ids.size() && i < batch.results.size(); ++i)
        on_result(self, batch.ids[i], n, std::move(batch.results[i]));
      drain(self, n);
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.flush_queued = false;
      for (auto& n : st.nodes)
        if (n.alive && !n.outgoing.calls.empty())
          flush(self, n.endpoint, n.outgoing);
    },
    [=](join_atom, caf::actor& endpoint, std::string& name, std::vector<std::string>& steps,
        std::uint32_t capacity) {
      auto& st = self->state;
      self->monitor(endpoint);
      st.nodes.push_back(node{endpoint, name, {steps.begin(), steps.end()},
                              std::max<std::uint32_t>(1, capacity), 0, true, {}});
      runtime::log(spdlog::level::info, {}, "node {} joined: {} steps, {} calls at once", name,
                   steps.size(), capacity);
      drain(self, st.nodes.size() - 1);
    },
    [=](close_atom) -> caf::result<bool> {
      // Answered once every node has acknowledged (or 2 s have passed), so
      // that no node learns of the end only by losing its connection.
      auto promise = self->make_response_promise<bool>();
      auto left = std::make_shared<std::size_t>(0);
      for (auto& n : self->state.nodes)
        if (n.alive)
          ++*left;
      if (*left == 0)
        return true;
      for (auto& n : self->state.nodes)
        if (n.alive)
          self->request(n.endpoint, std::chrono::seconds(2), close_atom::value)
            .then(
              [=](bool) mutable {
                if (--*left == 0)
                  promise.deliver(true);
              },
              [=](caf::error&) mutable {
                if (--*left == 0)
                  promise.deliver(true);
              });
      return promise;
    },
    [=](stats_atom) -> std::uint32_t {
      auto& st = self->state;
      return static_cast<std::uint32_t>(
        std::count_if(st.nodes.begin(), st.nodes.end(), [](const node& n) { return n.alive; }));
    },
    [=](sweep_atom) {
      auto& st = self->state;
      st.sweep.fired();
      auto now = storage::now_us();
      auto grace = std::chrono::duration_cast<std::chrono::microseconds>(overrun_grace).count();
      std::vector<std::uint64_t> late;
      for (auto& [id, p] : st.calls)
        if (now >= p.call.deadline_us + (p.node == no_node ? 0 : grace))
          late.push_back(id);
      for (auto id : late) {
        auto& p = st.calls.at(id);
        if (p.node == no_node) {
          auto& q = st.waiting[p.key];
          q.erase(std::remove(q.begin(), q.end(), id), q.end());
          --st.waiting_count;
        } else {
          --st.nodes[p.node].in_flight; // the node's answer, if it comes, is refused
        }
        auto why = p.node == no_node ? "no node took it before its time ran out"
                                     : "its node did not answer within the step's timeout";
        finish(self, id,
               failure(p.call, config::error_kind::timeout,
                       "step " + p.call.step + " attempt " + std::to_string(p.call.attempt)
                         + ": " + why));
      }
      if (!st.calls.empty())
        arm_sweep(self);
    },
  };
}

// -- the gateway --------------------------------------------------------------

/// Compares without stopping at the first difference, so that the time taken
/// says nothing about the token.
bool same_token(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

struct gateway_state {
  std::string token;
  std::unordered_set<std::string> steps;
  caf::actor dispatcher;
  caf::actor coordinator;
  gateway_tools tools;
  static inline const char* name = "nexus.gateway";
};

/// Runs one tool call on a thread of its own (a tool may wait on the
/// engine, and on the disk), answers it, and quits.
caf::behavior tool_runner(caf::event_based_actor* self, gateway_tools tools) {
  return {
    [=](query_atom, const std::string& tool,
        const std::string& arguments) -> caf::result<bool, std::string> {
      auto answer = tools(tool, arguments);
      self->quit();
      return {answer.first, std::move(answer.second)};
    },
  };
}

caf::behavior gateway(caf::stateful_actor<gateway_state>* self, std::string token,
                      std::vector<std::string> steps, caf::actor dispatcher,
                      caf::actor coordinator, gateway_tools tools) {
  auto& st = self->state;
  st.token = std::move(token);
  st.steps = {steps.begin(), steps.end()};
  st.dispatcher = std::move(dispatcher);
  st.coordinator = std::move(coordinator);
  st.tools = std::move(tools);
  auto from = [self] {
    auto s = self->current_sender();
    return s ? caf::to_string(s->node()) : std::string{"an anonymous sender"};
  };
  self->set_default_handler([from](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
    runtime::log(spdlog::level::warn, {}, "gateway: a message from {} refused: {}", from(),
                 caf::to_string(x.content()));
    return caf::sec::unexpected_message;
  });
  return {
    [=](join_atom, join_request& req) -> std::string {
      auto& st = self->state;
      auto sender = self->current_sender();
      std::string why;
      if (req.protocol != cluster_protocol)
        why = "protocol version " + std::to_string(req.protocol) + " is not this coordinator's "
              + std::to_string(cluster_protocol);
      else if (!same_token(req.token, st.token))
        why = "wrong cluster token";
      else if (!sender)
        why = "an anonymous sender cannot join";

      for (auto& s : req.steps)
        if (why.empty() && st.steps.count(s) == 0)
          why = "the workflow has no step " + s;
      if (!why.empty()) {
        runtime::log(spdlog::level::warn, {}, "gateway: node {} ({}) refused: {}", req.node,
                     from(), why);
        return why;
      }
      self->send(st.dispatcher, join_atom::value, caf::actor_cast<caf::actor>(sender), req.node,
                 req.steps, req.capacity);
      return {};
    },
    [=](submit_atom, std::string& token,
        config::saga_request& req) -> caf::result<std::uint8_t> {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!same_token(token, st.token) || !sender) {
        runtime::log(spdlog::level::warn, {req.correlation_id, req.saga},
                     "gateway: a submission from {} refused: {}", from(),
                     sender ? "wrong cluster token" : "no sender to tell the outcome");
        return static_cast<std::uint8_t>(start_result::refused);
      }
      // Answered from here, not by the coordinator: no detached actor
      // answers another node (see the coordinator's done_atom). The
      // coordinator tells the submitter each end.
      auto promise = self->make_response_promise<std::uint8_t>();
      self->request(st.coordinator, caf::infinite, start_atom::value, std::move(req),
                    caf::actor_cast<caf::actor>(sender))
        .then([promise](std::uint8_t r) mutable { promise.deliver(r); },
              [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [=](query_atom, std::string& token, std::string& tool,
        std::string& arguments) -> caf::result<bool, std::string> {
      auto& st = self->state;
      if (!same_token(token, st.token)) {
        runtime::log(spdlog::level::warn, {}, "gateway: a tool call ({}) from {} refused: wrong "
                     "cluster token", tool, from());
        return {true, std::string{"refused: wrong cluster token"}};
      }
      if (!st.tools)
        return {true, std::string{"this coordinator answers no tool calls"}};
      // Answered from here, not by the (detached) runner: see above.
      auto runner = self->spawn<caf::detached>(tool_runner, st.tools);
      auto promise = self->make_response_promise<bool, std::string>();
      self->request(runner, caf::infinite, query_atom::value, std::move(tool), std::move(arguments))
        .then([promise](bool is_error, std::string& result) mutable {
                promise.deliver(is_error, std::move(result));
              },
              [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
  };
}

// -- the endpoint -------------------------------------------------------------

struct endpoint_state {
  std::map<std::string, caf::actor> stages;
  caf::actor dispatcher;   ///< Where results go: the sender of the calls.
  result_batch outgoing;   ///< Results gathered, sent when the endpoint flushes.
  bool flush_queued = false;
  caf::actor gateway;  ///< On a worker, once joined.
  caf::node_id coordinator; ///< On a worker: the only node whose calls it runs.
  static inline const char* name = "nexus.endpoint";
};

using endpoint_actor = caf::stateful_actor<endpoint_state>;

/// Gathers the result of call `id`, to go back with the others of this
/// round of the mailbox (or at once when the batch is full).
void add_result(endpoint_actor* self, std::uint64_t id, step_result&& r) {
  auto& st = self->state;
  st.outgoing.ids.push_back(id);
  st.outgoing.results.push_back(std::move(r));
  if (st.outgoing.ids.size() >= max_batch) {
    if (st.dispatcher)
      self->send(st.dispatcher, result_atom::value, std::exchange(st.outgoing, {}));
  } else if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

caf::behavior endpoint(endpoint_actor* self, std::map<std::string, caf::actor> stages) {
  self->state.stages = std::move(stages);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.gateway.address())
      self->quit(caf::exit_reason::remote_link_unreachable);
  });
  return {
    [=](execute_atom, call_batch& batch) {
      auto& st = self->state;
      auto sender = self->current_sender();
      if (!sender || (st.coordinator && sender->node() != st.coordinator)) {
        runtime::log(spdlog::level::warn, {}, "{} calls from {} refused: not the coordinator this "
                     "node joined", batch.calls.size(),
                     sender ? caf::to_string(sender->node()) : std::string{"nobody"});
        return;
      }
      st.dispatcher = caf::actor_cast<caf::actor>(sender);
      for (std::size_t i = 0; i < batch.ids.size() && i < batch.calls.size(); ++i) {
        auto id = batch.ids[i];
        auto& call = batch.calls[i];
        auto stage = st.stages.find(stage_key(call.saga, call.step));
        if (stage == st.stages.end()) {
          add_result(self, id,
                     failure(call, config::error_kind::permanent,
                             "this node does not serve step " + call.saga + "/" + call.step));
          continue;
        }
        // The stage answers every call, a timed-out one too.
        self->request(stage->second, caf::infinite, execute_atom::value, std::move(call))
          .then([self, id](step_result& r) { add_result(self, id, std::move(r)); });
      }
    },
    [=](flush_atom) {
      auto& st = self->state;
      st.flush_queued = false;
      if (!st.outgoing.ids.empty() && st.dispatcher)
        self->send(st.dispatcher, result_atom::value, std::exchange(st.outgoing, {}));
    },
    [=](join_atom, caf::actor& gw, join_request& req) -> caf::result<std::string> {
      auto promise = self->make_response_promise<std::string>();
      self->request(gw, std::chrono::seconds(5), join_atom::value, std::move(req))
        .then(
          [=](std::string& why) mutable {
            if (why.empty()) {
              self->state.gateway = gw;
              self->state.coordinator = gw.node();
              self->monitor(gw);
            }
            promise.deliver(std::move(why));
          },
          [=](caf::error& err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [=](close_atom) -> caf::result<bool> {
      auto sender = self->current_sender();
      if (!sender || (self->state.coordinator && sender->node() != self->state.coordinator)) {
        runtime::log(spdlog::level::warn, {}, "a close from {} refused: not the coordinator this "
                     "node joined",
                     sender ? caf::to_string(sender->node()) : std::string{"nobody"});
        return caf::sec::request_receiver_down;
      }
      self->quit(caf::exit_reason::normal);
      return true;
    },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::uint64_t queue_bound) {
  return sys.spawn(dispatcher, queue_bound);
}

caf::actor spawn_gateway(caf::actor_system& sys, std::string token,
                         std::vector<std::string> known_steps, caf::actor dispatcher,
                         caf::actor coordinator, gateway_tools tools) {
  return sys.spawn(gateway, std::move(token), std::move(known_steps), std::move(dispatcher),
                   std::move(coordinator), std::move(tools));
}

caf::actor spawn_endpoint(caf::actor_system& sys, std::map<std::string, caf::actor> stages) {
  return sys.spawn(endpoint, std::move(stages));
}

} // namespace nexus::actors
