// The saga machine under control from outside its steps: deadlines,
// cancellation, pivots, open breakers, compensation policies and an
// operator's retry of a failed compensation.
#include <boost/test/unit_test.hpp>

#include "runtime/saga_writes.hpp"
#include "tests/runtime/machine_fixture.hpp"

namespace runtime_saga_control_test {

using namespace nexus;
using namespace nexus::runtime;
using namespace nexus::test;
using config::error_kind;
using storage::event_type;

namespace {

/// a, then p (a pivot: no compensation), then c.
constexpr const char* with_pivot = R"([
    {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
    {"name": "p", "action": {"kind": "simulate"}},
    {"name": "c", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}])";

bool has_command(const transition& t, command::kind k) {
  for (auto& c : t.commands)
    if (c.type == k)
      return true;
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_machine_control)

BOOST_AUTO_TEST_CASE(a_deadline_is_armed_at_start_and_rearmed_if_it_fires_early) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "d1"};
  transition t;
  m.start("{}", f.now, t);
  BOOST_REQUIRE(has_command(t, command::kind::deadline));
  BOOST_TEST(t.commands.back().at_us == f.now + 1000000);
  t = {};
  m.deadline_due(f.now + 999000, t);
  BOOST_TEST(t.events.empty());
  BOOST_REQUIRE_EQUAL(t.commands.size(), 1u);
  BOOST_TEST((t.commands[0].type == command::kind::deadline));
}

BOOST_AUTO_TEST_CASE(past_the_deadline_a_failure_is_not_retried_and_the_saga_compensates) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "d2"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  t = {};
  m.step_finished(1, 1, fails(error_kind::transient), f.now + 2000000, t);
  BOOST_TEST(types(t) == (strings{"step_failed:b", "compensation_started:a"}));
}

BOOST_AUTO_TEST_CASE(a_deadline_passing_during_a_retry_wait_fails_the_step_as_a_timeout) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "d3"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, fails(error_kind::transient), f.now, t);
  t = {};
  m.deadline_due(f.now + 1000000, t);
  BOOST_TEST(types(t) == (strings{"step_failed:b", "compensation_started:a"}));
  BOOST_TEST((t.events[0].error == error_kind::timeout));
  t = {};
  m.retry_due(1, 2, false, f.now + 1000001, t); // the old retry timer: ignored
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(a_deadline_abandons_the_running_attempt_naming_the_deadline_and_compensates) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 500)"};
  saga_machine m{f.spec(), "d5"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  t = {};
  m.deadline_due(f.now + 500000, t); // b's attempt 1 is still running
  BOOST_TEST(types(t) == (strings{"step_failed:b", "compensation_started:a"}));
  BOOST_TEST((t.events[0].error == error_kind::timeout));
  BOOST_TEST(t.events[0].attempt == 1u);
  BOOST_TEST(t.events[0].message
             == "the saga's deadline (500 ms) passed while attempt 1 was running: abandoned");
  t = {};
  m.step_finished(1, 1, ok(), f.now + 2000000, t); // its late outcome
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(an_attempt_timed_out_by_the_deadline_says_so) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 500)"};
  saga_machine m{f.spec(), "d6"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(error_kind::timeout, "a did not finish within 500 ms"),
                  f.now + 500000, t);
  BOOST_REQUIRE(!t.events.empty());
  BOOST_TEST(t.events[0].message
             == "the saga's deadline (500 ms) passed while attempt 1 was running: a did not "
                "finish within 500 ms");
}

// The executor's timer, set to the saga's time left, can end the attempt a
// moment before the saga's deadline timer fires: still the deadline's cut.
BOOST_AUTO_TEST_CASE(an_attempt_bounded_by_the_deadline_that_times_out_just_before_it_is_cut) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 500)"}; // steps time out at 30 s
  saga_machine m{f.spec(), "d7"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now + 2000, t);
  auto recovered = replayed(f, "d7", t); // the mark comes back with the events
  for (auto* x : {&m, recovered.get()}) {
    transition u;
    x->step_finished(1, 1, fails(error_kind::timeout, "b did not finish within 498 ms"),
                     f.now + 499000, u);
    BOOST_TEST(types(u) == (strings{"step_failed:b", "compensation_started:a"}));
    BOOST_TEST((u.events[0].error == error_kind::timeout));
    BOOST_TEST(u.events[0].message
               == "the saga's deadline (500 ms) passed while attempt 1 was running: b did not "
                  "finish within 498 ms");
    u = {};
    x->deadline_due(f.now + 500000, u); // the saga's timer, a moment later
    BOOST_TEST(u.events.empty());
  }
}

// A step timeout shorter than the time left is the step's own: retried.
BOOST_AUTO_TEST_CASE(a_step_timeout_inside_the_deadline_is_the_steps_own_and_is_retried) {
  machine_fixture f{R"([
      {"name": "a", "timeout_ms": 100, "action": {"kind": "simulate"},
       "compensate": {"kind": "simulate"}}])",
                    R"("deadline_ms": 500)"};
  saga_machine m{f.spec(), "d8"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(error_kind::timeout, "a did not finish within 100 ms"),
                  f.now + 100000, t);
  BOOST_TEST(types(t) == (strings{"step_failed:a", "step_retry_scheduled:a"}));
  BOOST_TEST(t.events[0].message == "a did not finish within 100 ms");
}

BOOST_AUTO_TEST_CASE(a_deadline_that_passes_between_steps_starts_no_next_step) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "d4"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, ok(), f.now + 1500000, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:a", "compensation_started:a"}));
}

BOOST_AUTO_TEST_CASE(a_cancelled_saga_lets_the_running_step_end_then_compensates_and_ends_cancelled) {
  machine_fixture f;
  saga_machine m{f.spec(), "x1"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  t = {};
  BOOST_TEST(m.cancel(f.now, t));
  BOOST_TEST(types(t) == (strings{"cancel_requested"})); // b is still running
  t = {};
  m.step_finished(1, 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:b", "compensation_started:b"}));
  t = {};
  m.compensation_finished(1, 1, ok(), f.now, t);
  m.compensation_finished(0, 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:b", "compensation_started:a",
                                  "compensation_succeeded:a", "saga_cancelled"}));
  BOOST_TEST((m.status() == saga_status::cancelled));
}

BOOST_AUTO_TEST_CASE(cancelling_during_a_retry_wait_fails_the_waiting_step_as_cancelled) {
  machine_fixture f;
  saga_machine m{f.spec(), "x2"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, fails(error_kind::transient), f.now, t);
  t = {};
  BOOST_TEST(m.cancel(f.now, t));
  BOOST_TEST(types(t) == (strings{"cancel_requested", "step_failed:b", "compensation_started:a"}));
  BOOST_TEST((t.events[1].error == error_kind::cancelled));
}

BOOST_AUTO_TEST_CASE(cancelling_a_finished_saga_does_nothing_and_says_so) {
  machine_fixture f;
  saga_machine m{f.spec(), "x3"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, fails(error_kind::permanent), f.now, t);
  BOOST_REQUIRE(m.finished());
  t = {};
  BOOST_TEST(!m.cancel(f.now, t));
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(a_cancellation_survives_recovery) {
  machine_fixture f;
  saga_machine live{f.spec(), "x4"};
  transition t;
  live.start("{}", f.now, t);
  live.cancel(f.now, t);
  auto m = replayed(f, "x4", t);
  transition next;
  m->resume(f.now, next);
  BOOST_TEST((next.commands.at(0).type == command::kind::execute)); // a runs again
  next = {};
  m->step_finished(0, 1, ok(), f.now, next);
  BOOST_TEST(types(next) == (strings{"step_succeeded:a", "compensation_started:a"}));
}

BOOST_AUTO_TEST_CASE(after_a_pivot_a_failure_is_retried_forward_whatever_its_kind) {
  machine_fixture f{with_pivot};
  saga_machine m{f.spec(), "v1"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, ok(), f.now, t);
  for (std::uint32_t attempt = 1; attempt <= 5; ++attempt) { // beyond max_attempts 3
    t = {};
    if (attempt > 1)
      m.retry_due(2, attempt, false, f.now, t);
    m.step_finished(2, attempt, fails(error_kind::permanent), f.now, t);
    BOOST_TEST(types(t).back() == "step_retry_scheduled:c");
  }
  t = {};
  m.retry_due(2, 6, false, f.now, t);
  m.step_finished(2, 6, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_started:c", "step_succeeded:c", "saga_completed"}));
}

BOOST_AUTO_TEST_CASE(a_deadline_after_a_pivot_rolls_back_to_it_and_fails_the_saga_naming_it) {
  machine_fixture f{R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "p", "action": {"kind": "simulate"}},
      {"name": "b", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "c", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}])",
                    R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "v2"};
  transition t;
  m.start("{}", f.now, t);
  for (auto name : {"a", "p", "b"})
    m.step_finished(f.step(name), 1, ok(), f.now, t);
  m.step_finished(f.step("c"), 1, fails(error_kind::transient), f.now, t);
  t = {};
  m.deadline_due(f.now + 1000000, t);
  BOOST_TEST(types(t) == (strings{"step_failed:c", "compensation_started:b"}));
  t = {};
  m.compensation_finished(f.step("b"), 1, ok(), f.now + 1000000, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:b", "saga_failed"})); // a stays done
  BOOST_TEST(t.events[1].message.find("pivot step p") != std::string::npos);
  BOOST_TEST((m.status() == saga_status::failed));
}

BOOST_AUTO_TEST_CASE(an_open_breaker_uses_up_no_attempt_and_waits_its_remaining_time) {
  machine_fixture f;
  saga_machine m{f.spec(), "o1"};
  transition t;
  m.start("{}", f.now, t);
  for (int i = 0; i < 5; ++i) { // more rejections than max_attempts
    t = {};
    if (i > 0)
      m.retry_due(0, 1, false, f.now, t);
    auto o = fails(error_kind::circuit_open);
    o.retry_after_ms = 500;
    m.step_finished(0, 1, o, f.now, t);
    BOOST_TEST(types(t).back() == "step_retry_scheduled:a");
    BOOST_TEST(t.events.back().attempt == 1u);
    BOOST_TEST(t.events.back().retry_at_us == f.now + 500000);
  }
}

BOOST_AUTO_TEST_CASE(an_open_breaker_past_the_deadline_fails_the_step) {
  machine_fixture f{machine_fixture::abc, R"("deadline_ms": 1000)"};
  saga_machine m{f.spec(), "o2"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(error_kind::circuit_open), f.now + 1000000, t);
  BOOST_TEST(types(t) == (strings{"step_failed:a", "saga_compensated"}));
}

BOOST_AUTO_TEST_CASE(a_compensation_follows_its_own_retry_policy) {
  machine_fixture f{R"([
      {"name": "a", "action": {"kind": "simulate"},
       "compensate": {"kind": "simulate", "retry": {"max_attempts": 1}}},
      {"name": "b", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}])"};
  BOOST_TEST(f.spec().steps[0].compensate_retry.max_attempts == 1u);
  BOOST_TEST(f.spec().steps[0].retry.max_attempts == 3u);
  saga_machine m{f.spec(), "k1"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, fails(error_kind::permanent), f.now, t);
  t = {};
  m.compensation_finished(0, 1, fails(error_kind::transient), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_failed:a", "saga_failed:a"}));
}

BOOST_AUTO_TEST_CASE(an_operator_retry_resumes_a_failed_compensation_where_it_stopped) {
  machine_fixture f;
  saga_machine m{f.spec(), "k2"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, ok(), f.now, t);
  m.step_finished(2, 1, fails(error_kind::permanent), f.now, t);
  m.compensation_finished(1, 1, fails(error_kind::permanent), f.now, t);
  BOOST_REQUIRE((m.status() == saga_status::failed));
  auto before = t;
  t = {};
  BOOST_TEST(m.retry_compensation(f.now, t));
  BOOST_TEST(types(t) == (strings{"retry_requested", "compensation_started:b"}));
  BOOST_TEST(t.events[1].attempt == 1u);
  BOOST_TEST((m.status() == saga_status::compensating));
  auto req = make_append(m, t);
  BOOST_REQUIRE(req.row.has_value());
  BOOST_TEST((req.row->status == saga_status::compensating));
  // The reopened saga is rebuilt from its log like any other.
  before.events.insert(before.events.end(), t.events.begin(), t.events.end());
  auto r = replayed(f, "k2", before);
  transition next;
  r->resume(f.now, next);
  BOOST_TEST((next.commands.at(0).type == command::kind::compensate));
  next = {};
  r->compensation_finished(1, 1, ok(), f.now, next);
  r->compensation_finished(0, 1, ok(), f.now, next);
  BOOST_TEST(types(next) == (strings{"compensation_succeeded:b", "compensation_started:a",
                                     "compensation_succeeded:a", "saga_compensated"}));
}

BOOST_AUTO_TEST_CASE(an_operator_retry_of_a_saga_not_failed_does_nothing) {
  machine_fixture f;
  saga_machine m{f.spec(), "k3"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  BOOST_TEST(!m.retry_compensation(f.now, t)); // running
  m.step_finished(0, 1, fails(error_kind::permanent), f.now, t);
  t = {};
  BOOST_TEST(!m.retry_compensation(f.now, t)); // compensated
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(no_prefix_of_a_cancelled_pivoted_or_retried_history_is_left_idle) {
  machine_fixture f{with_pivot, R"("deadline_ms": 1000)"};
  { // cancelled during a retry wait, then rolled back
    saga_machine m{f.spec(), "i1"};
    transition t;
    m.start("{}", f.now, t);
    m.step_finished(0, 1, fails(error_kind::transient), f.now, t);
    m.cancel(f.now, t);
    BOOST_REQUIRE(m.finished());
    check_every_prefix_resumes(f, "i1", t);
  }
  { // forward past the pivot, an open breaker, then the deadline
    saga_machine m{f.spec(), "i2"};
    transition t;
    m.start("{}", f.now, t);
    m.step_finished(0, 1, ok(), f.now, t);
    m.step_finished(1, 1, ok(), f.now, t);
    m.step_finished(2, 1, fails(error_kind::permanent), f.now, t);
    m.retry_due(2, 2, false, f.now, t);
    m.step_finished(2, 2, fails(error_kind::circuit_open), f.now, t);
    m.deadline_due(f.now + 1000000, t);
    BOOST_REQUIRE(m.finished());
    check_every_prefix_resumes(f, "i2", t);
  }
  machine_fixture plain;
  { // a compensation failed for good, reopened by an operator, finished
    saga_machine m{plain.spec(), "i3"};
    transition t;
    m.start("{}", plain.now, t);
    m.step_finished(0, 1, ok(), plain.now, t);
    m.step_finished(1, 1, fails(error_kind::permanent), plain.now, t);
    for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
      if (attempt > 1)
        m.retry_due(0, attempt, true, plain.now, t);
      m.compensation_finished(0, attempt, fails(error_kind::transient), plain.now, t);
    }
    BOOST_REQUIRE((m.status() == saga_status::failed));
    m.retry_compensation(plain.now, t);
    m.compensation_finished(0, 1, ok(), plain.now, t);
    BOOST_REQUIRE((m.status() == saga_status::compensated));
    check_every_prefix_resumes(plain, "i3", t);
  }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_saga_control_test
