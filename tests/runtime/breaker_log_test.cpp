// What a breaker writes to the log: its transitions as numbered events under
// breaker:<resource> and its row, built without an actor. Time is an argument.
#include <boost/test/unit_test.hpp>

#include "runtime/breaker_log.hpp"
#include "storage/event.hpp"

namespace runtime_breaker_log_test {

using namespace nexus;
using namespace nexus::runtime;

namespace {

constexpr std::int64_t now = 1'700'000'000'000'000;

/// A breaker opened by five failed calls.
struct opened {
  config::breaker_spec spec;
  std::vector<breaker_transition> ts;
  std::unique_ptr<circuit_breaker> b;

  opened() {
    spec.window_size = 5;
    spec.minimum_calls = 5;
    spec.open_ms = 200;
    b = std::make_unique<circuit_breaker>(spec);
    for (int i = 0; i < 5; ++i) {
      auto p = b->try_acquire(now, ts);
      b->on_result(p.generation, false, config::error_kind::transient, 1000, now, ts);
    }
  }
};

storage::event decoded(const std::string& json) {
  storage::event e;
  std::string error;
  BOOST_REQUIRE_MESSAGE(storage::decode_event(json, e, error), error);
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(breaker_log_writes)

BOOST_AUTO_TEST_CASE(transitions_become_numbered_events_with_the_row_after_them) {
  opened o;
  BOOST_REQUIRE_EQUAL(o.ts.size(), 1u);
  breaker_log log{"payments", 7};
  auto req = log.transitions(o.ts, *o.b, now);
  BOOST_REQUIRE(req);
  BOOST_TEST(req->cid == "breaker:payments");
  BOOST_REQUIRE_EQUAL(req->events.size(), 1u);
  BOOST_TEST(req->events[0].first == 8u); // after the stored seventh
  auto e = decoded(req->events[0].second);
  BOOST_TEST((e.type == storage::event_type::breaker_opened));
  BOOST_TEST(e.message == "closed -> open: failure rate 100.0% >= 50.0% over 5 calls");
  BOOST_TEST(e.retry_at_us == now + 200'000);
  BOOST_TEST(e.calls == 5u);
  BOOST_REQUIRE(req->breaker);
  BOOST_TEST(req->breaker->state == "open");
  BOOST_TEST(req->breaker->last_seq == 8u);
  BOOST_TEST(req->breaker->open_until_us == now + 200'000);
  BOOST_TEST(log.last_seq() == 8u);
}

BOOST_AUTO_TEST_CASE(no_transition_writes_nothing_and_figures_write_the_row_alone) {
  config::breaker_spec spec;
  spec.minimum_calls = 5;
  circuit_breaker b{spec};
  std::vector<breaker_transition> ts;
  for (bool ok : {false, true, false}) { // fewer than minimum_calls: it stays closed
    auto p = b.try_acquire(now, ts);
    b.on_result(p.generation, ok, config::error_kind::transient, 1000, now, ts);
  }
  breaker_log log{"stock", 0};
  BOOST_TEST(!log.transitions(ts, b, now));
  auto req = log.figures(b, now + 5);
  BOOST_TEST(req.events.empty());
  BOOST_REQUIRE(req.breaker);
  BOOST_TEST(req.breaker->state == "closed");
  BOOST_TEST(req.breaker->calls == 3u);
  BOOST_TEST(req.breaker->failed_calls == 2u);
  BOOST_TEST(req.breaker->updated_us == now + 5);
  BOOST_TEST(log.last_seq() == 0u);
}

BOOST_AUTO_TEST_CASE(stored_states_are_read_back_by_name) {
  for (auto s : {breaker_state::closed, breaker_state::open, breaker_state::half_open,
                 breaker_state::forced_open, breaker_state::disabled})
    BOOST_TEST((parse_breaker_state(to_string(s)) == s));
  BOOST_TEST(!parse_breaker_state("ajar"));
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_breaker_log_test
