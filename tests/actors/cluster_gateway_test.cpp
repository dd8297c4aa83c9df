// The gateway a coordinator publishes, and the dispatcher behind it, in one
// process: who may join, and what happens to calls when no node may take them.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/cluster/dispatcher.hpp"
#include "actors/cluster/gateway.hpp"
#include "actors/cluster/endpoint.hpp"
#include "actors/cluster/transport.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "storage/timestamp.hpp"

namespace actors_cluster_gateway_test {

using namespace nexus;

namespace {

std::string join(caf::scoped_actor& self, const caf::actor& gateway, join_request req) {
  std::string why = "no answer";
  self->request(gateway, caf::infinite, join_atom::value, std::move(req))
    .receive([&](std::string& w) { why = std::move(w); },
             [&](caf::error& err) { why = caf::to_string(err); });
  return why;
}

std::uint32_t nodes(caf::scoped_actor& self, const actors::cluster_dispatcher& dispatcher) {
  std::uint32_t n = 0;
  self->request(dispatcher, caf::infinite, nodes_atom::value)
    .receive([&](std::uint32_t x) { n = x; }, [](caf::error&) {});
  return n;
}

join_request good() {
  join_request req;
  req.token = "t0ken";
  req.node = "w1";
  req.steps = {"order/charge"};
  req.capacity = 4;
  return req;
}

} // namespace

BOOST_AUTO_TEST_SUITE(cluster_gateway)

BOOST_AUTO_TEST_CASE(only_a_node_with_the_token_the_protocol_and_known_steps_joins) {
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto dispatcher = actors::spawn_dispatcher(sys, 10);
  auto gateway = actors::spawn_gateway(sys, "t0ken", {"order/charge", "order/ship"}, dispatcher,
                                       actors::coordinator_actor{});

  auto req = good();
  req.protocol = cluster_protocol + 1;
  auto why = join(self, gateway, req);
  BOOST_CHECK_EQUAL(why, "protocol version " + std::to_string(cluster_protocol + 1)
                           + " is not this coordinator's " + std::to_string(cluster_protocol));
  req = good();
  req.token = "t0keN";
  BOOST_CHECK_EQUAL(join(self, gateway, req), "wrong cluster token");
  req = good();
  req.token = "";
  BOOST_CHECK_EQUAL(join(self, gateway, req), "wrong cluster token");
  req = good();
  req.steps.push_back("order/refund");
  BOOST_CHECK_EQUAL(join(self, gateway, req), "the workflow has no step order/refund");
  BOOST_CHECK_EQUAL(nodes(self, dispatcher), 0u);

  // Anything but a join is refused, and nothing reaches the dispatcher.
  step_call call{"c-1", "order", "charge", 1, false, "{}", storage::now_us() + 60'000'000};
  bool refused = false;
  self->request(gateway, caf::infinite, execute_atom::value, call)
    .receive([](step_result&) {}, [&](caf::error&) { refused = true; });
  BOOST_CHECK(refused);

  BOOST_CHECK_EQUAL(join(self, gateway, good()), "");
  BOOST_CHECK_EQUAL(nodes(self, dispatcher), 1u);
  for (auto& a : {gateway, caf::actor_cast<caf::actor>(dispatcher)})
    self->send_exit(a, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_call_no_node_serves_waits_and_times_out_then_a_full_queue_refuses) {
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto dispatcher = actors::spawn_dispatcher(sys, 1);
  // Its deadline has passed: the sweep answers it as a timeout, no node needed.
  step_call late{"c-1", "order", "charge", 1, false, "{}", storage::now_us() - 1};
  self->send(dispatcher, execute_atom::value, late);
  step_call waits{"c-2", "order", "charge", 1, false, "{}", storage::now_us() + 60'000'000};
  step_call refused{"c-3", "order", "charge", 1, false, "{}", storage::now_us() + 60'000'000};
  std::vector<step_result> got;
  self->receive([&](step_result& r) { got.push_back(std::move(r)); });
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK(!got[0].outcome.ok);
  BOOST_CHECK((got[0].outcome.kind == config::error_kind::timeout));
  BOOST_CHECK_NE(got[0].outcome.message.find("no node took it"), std::string::npos);
  self->send(dispatcher, execute_atom::value, waits); // fills the queue of 1
  self->send(dispatcher, execute_atom::value, refused);
  self->receive([&](step_result& r) { got.push_back(std::move(r)); });
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_CHECK((got[1].outcome.kind == config::error_kind::circuit_open));
  BOOST_CHECK_EQUAL(got[1].outcome.retry_after_ms, 100);
  self->send_exit(dispatcher, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_cluster_gateway_test
