// The scheduler a Nexus actor system gets (actors/scheduler.hpp): its own
// work-stealing workers by default, CAF's deterministic or work-sharing
// scheduler when scheduler.policy asks for one, and actors run on each.
#include <atomic>
#include <cstdint>
#include <string>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/work_stealing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/system_config.hpp"

namespace actors_scheduler_test {

using namespace nexus;

namespace {

/// Adds one to what it is sent, and counts the messages it took.
caf::behavior adder(caf::event_based_actor*, std::atomic<int>* taken) {
  return {[=](std::int32_t x) {
    taken->fetch_add(1);
    return x + 1;
  }};
}

/// Sends `n` requests through a chain of `n` actors, each answered in turn:
/// every message crosses the scheduler's queues.
int round_trips(caf::actor_system& sys, int n, std::atomic<int>& taken) {
  caf::scoped_actor self{sys};
  std::int32_t sum = 0;
  for (int i = 0; i < n; ++i) {
    auto a = sys.spawn(adder, &taken);
    self->request(a, caf::infinite, std::int32_t{i})
      .receive([&](std::int32_t x) { sum += x; }, [](caf::error&) {});
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  return sum;
}

} // namespace

BOOST_AUTO_TEST_SUITE(scheduler)

BOOST_AUTO_TEST_CASE(a_node_runs_its_actors_on_workers_of_its_own_not_cafs_stock_ones) {
  actors::system_config cfg{2};
  caf::actor_system sys{cfg};
  BOOST_TEST(sys.scheduler().num_workers() == 2u);
  using stock = caf::scheduler::coordinator<caf::policy::work_stealing>;
  BOOST_TEST(dynamic_cast<stock*>(&sys.scheduler()) == nullptr);
  BOOST_TEST(dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler()) == nullptr);
  std::atomic<int> taken{0};
  BOOST_TEST(round_trips(sys, 200, taken) == 200 * 201 / 2);
  BOOST_TEST(taken.load() == 200);
}

BOOST_AUTO_TEST_CASE(the_testing_policy_still_gives_cafs_deterministic_scheduler) {
  actors::system_config cfg{1};
  cfg.set("scheduler.policy", caf::atom("testing"));
  caf::actor_system sys{cfg};
  auto* sched = dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler());
  BOOST_REQUIRE(sched != nullptr);
  std::atomic<int> taken{0};
  auto a = sys.spawn(adder, &taken);
  caf::anon_send(a, std::int32_t{1});
  BOOST_TEST(taken.load() == 0); // nothing runs until the test says so
  sched->run();
  BOOST_TEST(taken.load() == 1);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched->run();
}

BOOST_AUTO_TEST_CASE(the_sharing_policy_still_gives_cafs_work_sharing_scheduler) {
  actors::system_config cfg{2};
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  using sharing = caf::scheduler::coordinator<caf::policy::work_sharing>;
  BOOST_TEST(dynamic_cast<sharing*>(&sys.scheduler()) != nullptr);
  std::atomic<int> taken{0};
  BOOST_TEST(round_trips(sys, 50, taken) == 50 * 51 / 2);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_scheduler_test
