#include <boost/test/unit_test.hpp>

#include <set>

#include "tests/runtime/machine_fixture.hpp"

namespace runtime_saga_machine_test {

using namespace nexus;
using namespace nexus::runtime;
using storage::event_type;

using namespace nexus::test;

BOOST_AUTO_TEST_SUITE(saga_machine_transitions)

BOOST_AUTO_TEST_CASE(a_saga_whose_steps_succeed_completes) {
  machine_fixture f;
  saga_machine m{f.spec(), "c1"};
  transition t;
  m.start(R"({"n":1})", f.now, t);
  BOOST_TEST(types(t) == (strings{"saga_started", "step_started:a"}));
  BOOST_REQUIRE_EQUAL(t.commands.size(), 1u);
  BOOST_TEST((t.commands[0].type == command::kind::execute));
  for (auto name : {"a", "b"}) {
    t = {};
    m.step_finished(f.step(name), 1, ok(), f.now, t);
    BOOST_TEST(t.events.size() == 2u);
    BOOST_TEST((t.events[1].type == event_type::step_started));
  }
  t = {};
  m.step_finished(f.step("c"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:c", "saga_completed"}));
  BOOST_REQUIRE_EQUAL(t.commands.size(), 1u);
  BOOST_TEST((t.commands[0].type == command::kind::finish));
  BOOST_TEST((m.status() == saga_status::completed));
  BOOST_TEST(m.last_seq() == 8u);
}

BOOST_AUTO_TEST_CASE(a_permanent_failure_compensates_done_steps_in_reverse_order) {
  machine_fixture f;
  saga_machine m{f.spec(), "c2"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(f.step("a"), 1, ok(), f.now, t);
  m.step_finished(f.step("b"), 1, ok(), f.now, t);
  t = {};
  m.step_finished(f.step("c"), 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:c", "compensation_started:b"}));
  BOOST_TEST((t.commands.at(0).type == command::kind::compensate));
  BOOST_TEST(t.commands.at(0).step == f.step("b"));
  BOOST_TEST((m.status() == saga_status::compensating));
  t = {};
  m.compensation_finished(f.step("b"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:b", "compensation_started:a"}));
  t = {};
  m.compensation_finished(f.step("a"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:a", "saga_compensated"}));
  BOOST_TEST((m.status() == saga_status::compensated));
}

BOOST_AUTO_TEST_CASE(a_failure_of_the_first_step_compensates_nothing) {
  machine_fixture f;
  saga_machine m{f.spec(), "c3"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:a", "saga_compensated"}));
}

BOOST_AUTO_TEST_CASE(a_transient_failure_schedules_a_retry_with_backoff_and_jitter) {
  machine_fixture f;
  saga_machine m{f.spec(), "c4"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(config::error_kind::transient), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:a", "step_retry_scheduled:a"}));
  auto& retry = t.events[1];
  BOOST_TEST(retry.attempt == 2u);
  auto delay = retry.retry_at_us - f.now;
  BOOST_TEST(delay >= 80000); // 100 ms -20%
  BOOST_TEST(delay <= 120000);
  BOOST_REQUIRE_EQUAL(t.commands.size(), 1u);
  BOOST_TEST((t.commands[0].type == command::kind::schedule_retry));
  BOOST_TEST(t.commands[0].at_us == retry.retry_at_us);
  auto due = retry.retry_at_us; // `retry` goes with t
  t = {};
  m.retry_due(0, 2, false, due, t);
  BOOST_TEST(types(t) == (strings{"step_started:a"}));
  BOOST_TEST(t.events[0].attempt == 2u);
  BOOST_TEST(t.events[0].idempotency_key == "c4/a");
  BOOST_TEST(t.commands.at(0).attempt == 2u);
}

BOOST_AUTO_TEST_CASE(exhausted_retries_lead_to_compensation) {
  machine_fixture f;
  saga_machine m{f.spec(), "c5"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  for (std::uint32_t attempt = 1; attempt <= 3; ++attempt) {
    t = {};
    if (attempt > 1)
      m.retry_due(1, attempt, false, f.now, t);
    m.step_finished(1, attempt, fails(config::error_kind::timeout), f.now, t);
  }
  BOOST_TEST(types(t) == (strings{"step_started:b", "step_failed:b", "compensation_started:a"}));
}

BOOST_AUTO_TEST_CASE(non_retryable_kinds_are_not_retried) {
  machine_fixture f;
  saga_machine m{f.spec(), "c6"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(0, 1, fails(config::error_kind::permanent), f.now, t);
  for (auto& c : t.commands)
    BOOST_TEST((c.type != command::kind::schedule_retry));
}

BOOST_AUTO_TEST_CASE(late_or_repeated_outcomes_change_nothing) {
  machine_fixture f;
  saga_machine m{f.spec(), "c7"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  t = {};
  m.step_finished(0, 1, ok(), f.now, t);                                // repeated
  m.step_finished(1, 7, fails(config::error_kind::permanent), f.now, t); // wrong attempt
  m.compensation_finished(0, 1, ok(), f.now, t);                        // not compensating
  m.retry_due(1, 2, false, f.now, t);                                   // no retry pending
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(a_compensation_that_fails_for_good_fails_the_saga_naming_the_step) {
  machine_fixture f;
  saga_machine m{f.spec(), "c8"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  t = {};
  m.step_finished(1, 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:b", "compensation_started:a"}));
  t = {};
  m.compensation_finished(0, 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_failed:a", "saga_failed:a"}));
  BOOST_TEST(t.events[1].message.find("compensation of step a failed for good") == 0);
  BOOST_TEST((m.status() == saga_status::failed));
  BOOST_TEST((t.commands.back().type == command::kind::finish));
}

BOOST_AUTO_TEST_CASE(a_failed_compensation_is_retried_with_the_step_policy) {
  machine_fixture f;
  saga_machine m{f.spec(), "c9"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, ok(), f.now, t);
  m.step_finished(1, 1, fails(config::error_kind::permanent), f.now, t);
  t = {};
  m.compensation_finished(0, 1, fails(config::error_kind::transient), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_failed:a", "step_retry_scheduled:a"}));
  BOOST_TEST(t.events[1].compensation);
  t = {};
  m.retry_due(0, 2, true, f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_started:a"}));
  BOOST_TEST(t.events[0].idempotency_key == "c9/a/compensate");
  t = {};
  m.compensation_finished(0, 2, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:a", "saga_compensated"}));
}

BOOST_AUTO_TEST_CASE(a_parallel_group_starts_together_and_waits_for_all) {
  machine_fixture f{R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"parallel": [
        {"name": "p", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
        {"name": "q", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}]},
      {"name": "z", "action": {"kind": "simulate"}}])"};
  saga_machine m{f.spec(), "p1"};
  transition t;
  m.start("{}", f.now, t);
  t = {};
  m.step_finished(f.step("a"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:a", "step_started:p", "step_started:q"}));
  t = {};
  m.step_finished(f.step("q"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:q"}));
  t = {};
  m.step_finished(f.step("p"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:p", "step_started:z"}));
}

BOOST_AUTO_TEST_CASE(a_parallel_failure_waits_for_siblings_then_compensates_the_group_together) {
  machine_fixture f{R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"parallel": [
        {"name": "p", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
        {"name": "q", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
        {"name": "r", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}]}])"};
  saga_machine m{f.spec(), "p2"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(f.step("a"), 1, ok(), f.now, t);
  m.step_finished(f.step("q"), 1, ok(), f.now, t);
  t = {};
  m.step_finished(f.step("p"), 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:p"})); // r still running
  t = {};
  m.step_finished(f.step("r"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"step_succeeded:r", "compensation_started:q", "compensation_started:r"}));
  t = {};
  m.compensation_finished(f.step("q"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:q"}));
  t = {};
  m.compensation_finished(f.step("r"), 1, ok(), f.now, t);
  BOOST_TEST(types(t) == (strings{"compensation_succeeded:r", "compensation_started:a"}));
}

BOOST_AUTO_TEST_CASE(steps_get_the_input_and_earlier_outputs_and_compensations_their_own) {
  machine_fixture f;
  saga_machine m{f.spec(), "io"};
  transition t;
  m.start(R"({"order":42})", f.now, t);
  BOOST_TEST(m.step_input(0) == R"({"input":{"order":42},"steps":{}})");
  m.step_finished(0, 1, outcome::success(R"({"reservation":"r-9"})"), f.now, t);
  BOOST_TEST(m.step_input(1) == R"({"input":{"order":42},"steps":{"a":{"reservation":"r-9"}}})");
  m.step_finished(1, 1, fails(config::error_kind::permanent), f.now, t);
  BOOST_TEST(m.step_input(0)
             == R"({"input":{"order":42},"steps":{"a":{"reservation":"r-9"}},"output":{"reservation":"r-9"}})");
}

BOOST_AUTO_TEST_CASE(sequence_numbers_run_from_one_without_gaps) {
  machine_fixture f;
  saga_machine m{f.spec(), "seq"};
  transition t;
  m.start("{}", f.now, t);
  m.step_finished(0, 1, fails(config::error_kind::transient), f.now, t);
  m.retry_due(0, 2, false, f.now, t);
  m.step_finished(0, 2, ok(), f.now, t);
  m.step_finished(1, 1, fails(config::error_kind::permanent), f.now, t);
  m.compensation_finished(0, 1, ok(), f.now, t);
  for (std::size_t i = 0; i < t.events.size(); ++i)
    BOOST_TEST(t.events[i].seq == i + 1);
  BOOST_TEST((t.events.back().type == event_type::saga_compensated));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(saga_machine_recovery)

BOOST_AUTO_TEST_CASE(a_step_started_without_outcome_runs_again_with_the_same_key) {
  machine_fixture f;
  saga_machine live{f.spec(), "r1"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, ok(), f.now, t);
  auto m = replayed(f, "r1", t);
  BOOST_TEST(m->last_seq() == live.last_seq());
  transition next;
  m->resume(f.now, next);
  BOOST_TEST(next.events.empty());
  BOOST_REQUIRE_EQUAL(next.commands.size(), 1u);
  BOOST_TEST((next.commands[0].type == command::kind::execute));
  BOOST_TEST(next.commands[0].step == 1u);
  BOOST_TEST(next.commands[0].attempt == 1u);
  BOOST_TEST(m->idempotency_key(1, false) == "r1/b");
  BOOST_TEST(m->step_input(1) == live.step_input(1));
}

BOOST_AUTO_TEST_CASE(a_scheduled_retry_keeps_its_time) {
  machine_fixture f;
  saga_machine live{f.spec(), "r2"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, fails(config::error_kind::transient), f.now, t);
  auto retry_at = t.events.back().retry_at_us;
  auto m = replayed(f, "r2", t);
  transition next;
  m->resume(f.now + 5, next);
  BOOST_REQUIRE_EQUAL(next.commands.size(), 1u);
  BOOST_TEST((next.commands[0].type == command::kind::schedule_retry));
  BOOST_TEST(next.commands[0].at_us == retry_at);
  BOOST_TEST(next.commands[0].attempt == 2u);
}

BOOST_AUTO_TEST_CASE(a_compensation_in_progress_continues) {
  machine_fixture f;
  saga_machine live{f.spec(), "r3"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, ok(), f.now, t);
  live.step_finished(1, 1, ok(), f.now, t);
  live.step_finished(2, 1, fails(config::error_kind::permanent), f.now, t);
  live.compensation_finished(1, 1, ok(), f.now, t);
  auto m = replayed(f, "r3", t);
  BOOST_TEST((m->status() == saga_status::compensating));
  transition next;
  m->resume(f.now, next);
  BOOST_REQUIRE_EQUAL(next.commands.size(), 1u);
  BOOST_TEST((next.commands[0].type == command::kind::compensate));
  BOOST_TEST(next.commands[0].step == 0u);
  next = {};
  m->compensation_finished(0, 1, ok(), f.now, next);
  BOOST_TEST(types(next) == (strings{"compensation_succeeded:a", "saga_compensated"}));
  BOOST_TEST(next.events[0].seq == live.last_seq() + 1);
}

BOOST_AUTO_TEST_CASE(a_finished_saga_resumes_to_nothing) {
  machine_fixture f;
  saga_machine live{f.spec(), "r4"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, fails(config::error_kind::permanent), f.now, t);
  auto m = replayed(f, "r4", t);
  BOOST_TEST(m->finished());
  transition next;
  m->resume(f.now, next);
  BOOST_TEST(next.empty());
}

BOOST_AUTO_TEST_CASE(replay_refuses_a_gap_or_a_foreign_event) {
  machine_fixture f;
  saga_machine live{f.spec(), "r5"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, ok(), f.now, t);
  saga_machine m{f.spec(), "r5"};
  std::string err;
  BOOST_REQUIRE(m.replay(t.events[0], err));
  BOOST_TEST(!m.replay(t.events[2], err));
  BOOST_TEST(err.find("gap") != std::string::npos);
  saga_machine other{f.spec(), "other"};
  BOOST_TEST(!other.replay(t.events[0], err));
}

BOOST_AUTO_TEST_CASE(every_unfinished_state_resumes_to_something_scheduled) {
  // Replaying every prefix of a busy history must never leave a saga that
  // is unfinished with nothing to do.
  machine_fixture f;
  saga_machine live{f.spec(), "r6"};
  transition t;
  live.start("{}", f.now, t);
  live.step_finished(0, 1, fails(config::error_kind::transient), f.now, t);
  live.retry_due(0, 2, false, f.now, t);
  live.step_finished(0, 2, ok(), f.now, t);
  live.step_finished(1, 1, ok(), f.now, t);
  live.step_finished(2, 1, fails(config::error_kind::permanent), f.now, t);
  live.compensation_finished(1, 1, fails(config::error_kind::transient), f.now, t);
  live.retry_due(1, 2, true, f.now, t);
  live.compensation_finished(1, 2, ok(), f.now, t);
  live.compensation_finished(0, 1, ok(), f.now, t);
  BOOST_REQUIRE((live.status() == saga_status::compensated));
  check_every_prefix_resumes(f, "r6", t);
}

// W3C Trace Context: a start given the caller's traceparent continues its
// trace, the saga's own span recorded in saga_started; a replay of the log
// gives the same context (what a resumed saga's calls then carry).
BOOST_AUTO_TEST_CASE(a_start_continues_the_callers_trace_and_a_replay_keeps_it) {
  machine_fixture f;
  saga_machine m{f.spec(), "t1"};
  transition t;
  m.start("{}", f.now, t, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61");
  auto& started = t.events.front();
  BOOST_TEST(started.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  BOOST_TEST(started.parent_span_id == "00f067aa0ba902b7");
  BOOST_TEST(started.trace_flags == "01");
  BOOST_TEST(started.tracestate == "congo=t61");
  BOOST_TEST(started.span_id.size() == 16u);
  BOOST_TEST(started.span_id != started.parent_span_id);
  BOOST_TEST(m.trace().trace_hex() == started.trace_id);
  BOOST_TEST(config::span_hex(m.trace().span) == started.span_id);
  BOOST_TEST(m.tracestate() == "congo=t61");

  auto r = replayed(f, "t1", t);
  BOOST_TEST(r->trace().trace_hex() == started.trace_id);
  BOOST_TEST(r->trace().span == m.trace().span);
  BOOST_TEST(r->trace().parent == m.trace().parent);
  BOOST_TEST(r->tracestate() == "congo=t61");
}

BOOST_AUTO_TEST_CASE(a_start_without_a_valid_traceparent_starts_a_trace_of_its_own) {
  machine_fixture f;
  std::set<std::string> traces;
  for (const char* parent : {"", "not-a-traceparent"}) {
    saga_machine m{f.spec(), "t2"};
    transition t;
    m.start("{}", f.now, t, parent, "dropped=1");
    auto& started = t.events.front();
    BOOST_TEST(started.trace_id.size() == 32u);
    BOOST_TEST(started.parent_span_id.empty());
    BOOST_TEST(started.tracestate.empty()); // no tracestate without its traceparent
    BOOST_TEST(m.trace().valid());
    traces.insert(started.trace_id);
  }
  BOOST_TEST(traces.size() == 2u); // each a new one
}

BOOST_AUTO_TEST_CASE(a_saga_logged_before_traces_gets_one_from_its_id_the_same_each_replay) {
  machine_fixture f;
  auto logged = [&](const std::string& cid) {
    saga_machine m{f.spec(), cid};
    transition t;
    m.start("{}", f.now, t);
    for (auto& e : t.events) // as a log written before traces holds it
      e.trace_id = e.span_id = e.parent_span_id = e.trace_flags = "";
    return t;
  };
  auto t1 = logged("old-1");
  auto a = replayed(f, "old-1", t1), b = replayed(f, "old-1", t1);
  BOOST_TEST(a->trace().valid());
  BOOST_TEST(a->trace().trace_hex() == b->trace().trace_hex());
  BOOST_TEST(a->trace().span == b->trace().span);
  BOOST_TEST(a->trace().trace_hex() != replayed(f, "old-2", logged("old-2"))->trace().trace_hex());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_saga_machine_test
