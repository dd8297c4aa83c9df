#include "actors/cluster/gateway.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/ha/replication.hpp"
#include "actors/messages.hpp"
#include "actors/stage.hpp"
#include "runtime/logging.hpp"
#include "actors/engine.hpp"

namespace nexus::actors {

namespace {

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
  cluster_dispatcher dispatcher;
  coordinator_actor coordinator;
  gateway_tools tools;
  caf::actor shipper;
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
                      std::vector<std::string> steps, cluster_dispatcher dispatcher,
                      coordinator_actor coordinator, gateway_tools tools, caf::actor shipper) {
  auto& st = self->state;
  st.shipper = std::move(shipper);
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
    // A submitter that lost the leader and asks the next for a saga it
    // started there: its end status, when it ends or at once if it has.
    [=](watch_atom, const std::string& token, std::string& cid) -> caf::result<std::string> {
      auto& st = self->state;
      if (!same_token(token, st.token)) {
        runtime::log(spdlog::level::warn, {cid, {}}, "gateway: a watch from {} refused: wrong "
                     "cluster token", from());
        return caf::make_error(caf::sec::request_receiver_down, "wrong cluster token");
      }
      auto promise = self->make_response_promise<std::string>();
      self->request(st.coordinator, caf::infinite, watch_atom::value, std::move(cid))
        .then([promise](std::string& end) mutable { promise.deliver(std::move(end)); },
              [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [=](follow_atom, const std::string& token, const std::string&, std::uint64_t,
        std::uint64_t) -> caf::result<caf::actor> {
      // The mark is for a leader that has not begun (actors/ha/node.hpp):
      // this one's shipper hears it from the replica itself.
      auto& st = self->state;
      if (!same_token(token, st.token)) {
        runtime::log(spdlog::level::warn, {}, "gateway: a follower ({}) refused: wrong cluster "
                     "token", from());
        return caf::make_error(caf::sec::request_receiver_down, "wrong cluster token");
      }
      if (!st.shipper)
        return caf::make_error(caf::sec::request_receiver_down,
                               "this coordinator leads no replicated log");
      return st.shipper;
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

} // namespace

caf::actor spawn_gateway(caf::actor_system& sys, std::string token,
                         std::vector<std::string> known_steps, cluster_dispatcher dispatcher,
                         coordinator_actor coordinator, gateway_tools tools,
                         caf::actor shipper) {
  return sys.spawn(gateway, std::move(token), std::move(known_steps), std::move(dispatcher),
                   std::move(coordinator), std::move(tools), std::move(shipper));
}

} // namespace nexus::actors
