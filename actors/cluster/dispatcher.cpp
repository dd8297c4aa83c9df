#include "actors/cluster/dispatcher.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/cluster/endpoint.hpp"
#include "actors/messages.hpp"
#include "actors/owed_answer.hpp"
#include "actors/stage.hpp"
#include "config/definition.hpp"
#include "runtime/meters.hpp"
#include "runtime/bulkhead.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/logging.hpp"
#include "storage/timestamp.hpp"

namespace nexus::actors {

namespace {

constexpr std::size_t no_node = std::numeric_limits<std::size_t>::max();

struct node {
  node_endpoint endpoint; ///< Takes its calls; watched: its loss is the node's.
  std::string name;
  std::unordered_set<std::string> steps;
  std::uint32_t capacity = 1;
  std::uint32_t in_flight = 0;
  bool alive = true;
  call_batch outgoing;  ///< Calls for it, sent when the dispatcher flushes.
  /// The definitions (ids) sent to it with calls: each goes once.
  std::unordered_set<std::uint64_t> definitions_sent;
};


struct pending {
  step_call call;
  std::string key;                ///< Of its step.
  owed_answer reply;              ///< The saga, answered as a stage would.
  outcome_listener breaker;       ///< That let it through, told the outcome; or null.
  std::uint64_t breaker_call = 0;
  std::size_t node = no_node;     ///< Where it runs; no_node while it waits.
  std::uint32_t sent = 0;         ///< Times sent to a node.
  std::chrono::steady_clock::time_point sent_at; ///< Last sent: its time on a node feeds the bulkhead.
};

struct dispatcher_state {
  /// The stages' bulkhead policy, over the capacity of the nodes alive:
  /// whether a call goes now, waits for a node, or is refused.
  std::optional<runtime::bulkhead> policy;
  std::vector<node> nodes;
  std::unordered_map<std::uint64_t, pending> calls;
  std::unordered_map<std::string, std::deque<std::uint64_t>> waiting; ///< By step key.
  std::uint64_t waiting_count = 0;
  std::uint64_t next_id = 1;
  runtime::sweep_timer sweep;
  bool flush_queued = false;
  /// What calls' definitions are looked up in, to send to the nodes; may be null.
  const runtime::definition_catalog* definitions = nullptr;
  runtime::cluster_meters* meters = nullptr; ///< Null: none.
  static inline const char* name = "nexus.dispatcher";
};

using dispatcher_self = cluster_dispatcher::stateful_pointer<dispatcher_state>;

void flush(dispatcher_self self, const node_endpoint& to, call_batch& batch);

void arm_sweep(dispatcher_self self) {
  if (self->state.sweep.arm())
    self->delayed_send(self, std::chrono::milliseconds(runtime::sweep_timer::interval_ms),
                       sweep_atom::value);
}

/// The bulkhead's workers: the capacity of the nodes alive.
void count_workers(dispatcher_state& st) {
  std::uint64_t workers = 0;
  for (auto& n : st.nodes)
    if (n.alive)
      workers += n.capacity;
  st.policy->set_workers(static_cast<std::uint32_t>(std::min<std::uint64_t>(workers, UINT32_MAX)));
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
void dispatch(dispatcher_self self, std::uint64_t id) {
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
  p.sent_at = std::chrono::steady_clock::now();
  auto& node = st.nodes[n];
  ++node.in_flight;
  // Gathered: the batch goes when the dispatcher has worked through the
  // messages now in its mailbox (or when it is full).
  node.outgoing.ids.push_back(id);
  node.outgoing.calls.push_back(p.call);
  if (p.call.definition != 0 && st.definitions != nullptr
      && node.definitions_sent.insert(p.call.definition).second)
    if (auto* spec = st.definitions->find(p.call.definition))
      node.outgoing.definitions.push_back(
        {spec->name, spec->hash, config::definition_json(*spec)});
  if (node.outgoing.calls.size() >= call_batch::max_size) {
    flush(self, node.endpoint, node.outgoing);
  } else if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
  arm_sweep(self);
}

void flush(dispatcher_self self, const node_endpoint& to, call_batch& batch) {
  self->send(to, execute_atom::value, std::exchange(batch, {}));
}

/// Sends waiting calls of the steps `n` serves while it has room.
void drain(dispatcher_self self, std::size_t n) {
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
void finish(dispatcher_self self, std::uint64_t id, step_result r) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end())
    return;
  auto& p = it->second;
  if (p.breaker)
    self->send(p.breaker, report_atom::value, p.breaker_call, r.outcome.ok,
               static_cast<std::uint8_t>(r.outcome.kind));
  std::move(p.reply).promise(self).deliver(std::move(r));
  st.calls.erase(it);
}

/// Node `n`'s result of call `id`. A result for a call it no longer has
/// (the sweep gave up on it) changes nothing.
void on_result(dispatcher_self self, std::uint64_t id, std::size_t n, step_result&& r) {
  auto& st = self->state;
  auto it = st.calls.find(id);
  if (it == st.calls.end() || it->second.node != n)
    return;
  --st.nodes[n].in_flight;
  st.policy->took(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                           - it->second.sent_at)
                    .count());
  finish(self, id, std::move(r));
}

caf::result<step_result> accept(dispatcher_self self, step_call&& call, outcome_listener breaker,
                                std::uint64_t breaker_call) {
  auto& st = self->state;
  auto key = stage_key(call.saga, call.step);
  auto decision = st.policy->admit(pick(st, key) != no_node ? 1 : 0, st.waiting_count);
  if (decision.what == runtime::bulkhead::admission::refuse) {
    auto r = step_result::failure(call, config::error_kind::circuit_open,
                                  st.policy->refusal(key + " across the cluster",
                                                     st.waiting_count),
                                  decision.retry_after_ms);
    if (breaker)
      self->send(breaker, report_atom::value, breaker_call, false,
                 static_cast<std::uint8_t>(r.outcome.kind));
    return r;
  }
  auto id = st.next_id++;
  st.calls.emplace(id, pending{std::move(call), std::move(key), owed_answer::current(self),
                               std::move(breaker), breaker_call,
                               no_node, 0, {}});
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

cluster_dispatcher::behavior_type dispatcher(dispatcher_self self, std::uint64_t bound,
                                             const runtime::definition_catalog* definitions,
                                             runtime::cluster_meters* meters) {
  self->state.definitions = definitions;
  self->state.meters = meters;
  // A refused call tries again 100 ms later at the soonest: a node's
  // answer crosses the network, and with no node yet none comes sooner.
  self->state.policy.emplace(
    1, static_cast<std::uint32_t>(std::clamp<std::uint64_t>(bound, 1, UINT32_MAX)), 100);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto n = node_of(st, dm.source);
    if (n == no_node)
      return;
    st.nodes[n].alive = false;
    count_workers(st);
    if (st.meters) {
      st.meters->left.fetch_add(1, std::memory_order_relaxed);
      st.meters->nodes.fetch_sub(1, std::memory_order_relaxed);
    }
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
      runtime::log_context ctx{p.call.cid, p.call.saga, p.call.step, p.call.attempt};
      auto trace = p.call.trace();
      if (p.call.span != 0) {
        ctx.trace = &trace;
        ctx.span = p.call.span;
      }
      runtime::log(spdlog::level::info, ctx, "call sent again: node {} was lost", st.nodes[n].name);
      dispatch(self, id);
    }
  });
  return {
    [=](execute_atom, step_call& call) -> caf::result<step_result> {
      return accept(self, std::move(call), {}, 0);
    },
    [=](execute_atom, step_call& call, outcome_listener& breaker,
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
      // The join protocol: what joins is a node's endpoint (endpoint.hpp).
      st.nodes.push_back(node{caf::actor_cast<node_endpoint>(endpoint), name, {steps.begin(), steps.end()},
                              std::max<std::uint32_t>(1, capacity), 0, true, {}, {}});
      count_workers(st);
      if (st.meters) {
        st.meters->joined.fetch_add(1, std::memory_order_relaxed);
        st.meters->nodes.fetch_add(1, std::memory_order_relaxed);
      }
      runtime::log(spdlog::level::info, {}, "node {} joined: {} steps, {} calls at once", name,
                   steps.size(), capacity);
      drain(self, st.nodes.size() - 1);
    },
    [=](close_atom) -> caf::result<bool> {
      // Answered once every node has acknowledged (or 2 s have passed), so
      // that no node learns of the end only by losing its connection.
      // Counted before the promise is made: in CAF 0.17 a promise takes the
      // request over, a value returned after it goes nowhere, and a promise
      // dropped undelivered answers nothing (the caller waited for ever once
      // every worker of a coordinator without local stages had left).
      auto left = std::make_shared<std::size_t>(0);
      for (auto& n : self->state.nodes)
        if (n.alive)
          ++*left;
      if (*left == 0)
        return true;
      auto promise = self->make_response_promise<bool>();
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
    [=](nodes_atom) -> std::uint32_t {
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
               step_result::failure(p.call, config::error_kind::timeout,
                       "step " + p.call.step + " attempt " + std::to_string(p.call.attempt)
                         + ": " + why));
      }
      if (!st.calls.empty())
        arm_sweep(self);
    },
  };
}

} // namespace

cluster_dispatcher spawn_dispatcher(caf::actor_system& sys, std::uint64_t queue_bound,
                                    const runtime::definition_catalog* definitions,
                                    runtime::cluster_meters* meters) {
  return sys.spawn(dispatcher, queue_bound, definitions, meters);
}

} // namespace nexus::actors
