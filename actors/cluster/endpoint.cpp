#include "actors/cluster/endpoint.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/messages.hpp"
#include "actors/stage.hpp"
#include "config/definition.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/logging.hpp"

namespace nexus::actors {

namespace {

struct endpoint_state {
  std::map<std::string, step_target> stages;
  caf::actor dispatcher;   ///< Where results go: the sender of the calls.
  result_batch outgoing;   ///< Results gathered, sent when the endpoint flushes.
  bool flush_queued = false;
  caf::actor gateway;  ///< On a worker, once joined.
  caf::node_id coordinator; ///< On a worker: the only node whose calls it runs.
  runtime::definition_catalog* definitions = nullptr; ///< Takes those sent with calls.
  static inline const char* name = "nexus.endpoint";
};

using endpoint_actor = caf::stateful_actor<endpoint_state>;

/// Gathers the result of call `id`, to go back with the others of this
/// round of the mailbox (or at once when the batch is full).
void add_result(endpoint_actor* self, std::uint64_t id, step_result&& r) {
  auto& st = self->state;
  st.outgoing.ids.push_back(id);
  st.outgoing.results.push_back(std::move(r));
  if (st.outgoing.ids.size() >= call_batch::max_size) {
    if (st.dispatcher)
      self->send(st.dispatcher, result_atom::value, std::exchange(st.outgoing, {}));
  } else if (!st.flush_queued) {
    st.flush_queued = true;
    self->send(self, flush_atom::value);
  }
}

/// Adds the definitions a batch brings, checked against their hashes.
void learn(endpoint_actor* self, std::vector<shipped_definition>& sent) {
  auto* definitions = self->state.definitions;
  if (definitions == nullptr)
    return;
  for (auto& d : sent) {
    if (definitions->find(d.hash) != nullptr)
      continue;
    std::string why;
    if (auto spec = config::parse_definition(d.text, d.saga, d.hash, why))
      definitions->add(std::move(*spec));
    else
      runtime::log(spdlog::level::err, {}, "a definition of saga {} sent by the coordinator is "
                   "refused: {}; its calls fail", d.saga, why);
  }
}

caf::behavior endpoint(endpoint_actor* self, std::map<std::string, step_target> stages,
                       runtime::definition_catalog* definitions) {
  self->state.stages = std::move(stages);
  self->state.definitions = definitions;
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
      learn(self, batch.definitions);
      for (std::size_t i = 0; i < batch.ids.size() && i < batch.calls.size(); ++i) {
        auto id = batch.ids[i];
        auto& call = batch.calls[i];
        auto stage = st.stages.find(stage_key(call.saga, call.step));
        if (stage == st.stages.end()) {
          add_result(self, id,
                     step_result::failure(call, config::error_kind::permanent,
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

caf::actor spawn_endpoint(caf::actor_system& sys, std::map<std::string, step_target> stages,
                          runtime::definition_catalog* definitions) {
  return sys.spawn(endpoint, std::move(stages), definitions);
}

} // namespace nexus::actors
