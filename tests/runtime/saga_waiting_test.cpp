// The saga machine's waits: sleep and wait steps, signals that come before
// or during their wait or twice, timeouts, and cancels and deadlines that
// end a wait. Time is the fixture's, passed in: no clock, no sleeping.
#include <boost/test/unit_test.hpp>

#include "runtime/saga_writes.hpp"
#include "storage/timestamp.hpp"
#include "tests/runtime/machine_fixture.hpp"

namespace runtime_saga_waiting_test {

using namespace nexus;
using namespace nexus::runtime;
using namespace nexus::test;
using config::error_kind;
using storage::event_type;

namespace {

/// reserve, then wait for `paid` (1 s at most), then ship.
constexpr const char* pay_then_ship = R"([
    {"name": "reserve", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
    {"name": "paid", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 1000}},
    {"name": "ship", "action": {"kind": "simulate"}}])";

const command* find_command(const transition& t, command::kind k) {
  for (auto& c : t.commands)
    if (c.type == k)
      return &c;
  return nullptr;
}

const storage::event* find_event(const transition& t, event_type type) {
  for (auto& e : t.events)
    if (e.type == type)
      return &e;
  return nullptr;
}

/// A machine on saga `s` of `steps`, started at the fixture's time.
struct waiting_saga {
  machine_fixture f;
  saga_machine m;
  transition t;

  waiting_saga(const char* steps, const std::string& cid, const std::string& input = "{}",
               const std::string& keys = "")
    : f{steps, keys}, m{f.spec(), cid} {
    m.start(input, f.now, t);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(saga_machine_waiting)

BOOST_AUTO_TEST_CASE(a_sleep_waits_its_time_then_succeeds_and_an_early_timer_waits_on) {
  waiting_saga w{R"([{"name": "nap", "action": {"kind": "sleep", "ms": 60000}},
                     {"name": "b", "action": {"kind": "simulate"}}])",
                 "s1"};
  BOOST_TEST(types(w.t) == (strings{"saga_started", "step_started:nap", "step_waiting:nap"}));
  auto wake = find_command(w.t, command::kind::wake);
  BOOST_REQUIRE(wake);
  BOOST_TEST(wake->at_us == w.f.now + 60000000);
  BOOST_TEST(w.t.events.back().wake_at_us == w.f.now + 60000000);
  BOOST_TEST(find_command(w.t, command::kind::execute) == nullptr); // no stage runs a sleep
  BOOST_TEST(*w.m.idle_until() == w.f.now + 60000000);
  transition early;
  w.m.wake_due(0, 1, false, w.f.now + 59999000, early);
  BOOST_TEST(early.events.empty());
  BOOST_REQUIRE_EQUAL(early.commands.size(), 1u);
  BOOST_TEST((early.commands[0].type == command::kind::wake));
  transition due;
  w.m.wake_due(0, 1, false, w.f.now + 60000000, due);
  BOOST_TEST(types(due) == (strings{"step_succeeded:nap", "step_started:b"}));
  BOOST_TEST(!w.m.idle_until().has_value()); // b runs
}

BOOST_AUTO_TEST_CASE(a_sleep_until_reads_its_time_from_the_input_and_a_past_time_wakes_at_once) {
  const char* steps = R"([{"name": "nap", "action": {"kind": "sleep", "until": "/input/ship_at"}},
                          {"name": "b", "action": {"kind": "simulate"}}])";
  waiting_saga later{steps, "s2", R"({"ship_at": "1970-01-01T01:00:00+01:00"})"};
  // 01:00 at +01:00 is the epoch itself: long past.
  BOOST_TEST(types(later.t) == (strings{"saga_started", "step_started:nap", "step_succeeded:nap",
                                        "step_started:b"}));
  waiting_saga future{steps, "s3", R"({"ship_at": "2100-01-01T00:00:00.5Z"})"};
  BOOST_REQUIRE(find_command(future.t, command::kind::wake));
  BOOST_TEST(find_command(future.t, command::kind::wake)->at_us == 4102444800500000);
}

BOOST_AUTO_TEST_CASE(a_sleep_until_that_names_no_time_fails_for_good_saying_where) {
  const char* steps = R"([{"name": "nap", "action": {"kind": "sleep", "until": "/input/ship_at"}}])";
  waiting_saga missing{steps, "s4", "{}"};
  auto failed = find_event(missing.t, event_type::step_failed);
  BOOST_REQUIRE(failed);
  BOOST_TEST((failed->error == error_kind::permanent));
  BOOST_TEST(failed->message == "sleep until /input/ship_at: the step's input has nothing there");
  BOOST_TEST(missing.m.finished());
  waiting_saga bad{steps, "s5", R"({"ship_at": "tomorrow"})"};
  failed = find_event(bad.t, event_type::step_failed);
  BOOST_REQUIRE(failed);
  BOOST_TEST(failed->message
             == "sleep until /input/ship_at: \"tomorrow\" is not an RFC 3339 time (such as "
                "2026-12-24T18:00:00Z)");
}

BOOST_AUTO_TEST_CASE(a_signal_ends_its_wait_with_its_data_as_the_output) {
  waiting_saga w{pay_then_ship, "w1"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  BOOST_TEST((w.t.events.back().type == event_type::step_waiting));
  BOOST_TEST(w.t.events.back().signal == "paid");
  BOOST_TEST(*w.m.idle_until() == w.f.now + 1000000); // its timeout
  transition s;
  BOOST_TEST((w.m.signal("paid", R"({"amount":42})", "", w.f.now + 10, s) == signal_result::stored));
  BOOST_TEST(types(s) == (strings{"signal_received", "step_succeeded:paid", "step_started:ship"}));
  BOOST_TEST(s.events[0].data == R"({"amount":42})");
  BOOST_TEST(s.events[1].output == R"({"amount":42})");
  BOOST_TEST(s.events[1].signal == "paid");
  BOOST_TEST(w.m.step_input(2).find(R"("paid":{"amount":42})") != std::string::npos);
  transition late; // the wait's timer, after its signal
  w.m.wake_due(1, 1, false, w.f.now + 1000000, late);
  BOOST_TEST(late.empty());
}

BOOST_AUTO_TEST_CASE(a_signal_before_its_wait_is_kept_and_several_are_consumed_one_per_wait) {
  waiting_saga w{R"([
      {"name": "a", "action": {"kind": "simulate"}},
      {"name": "w1", "action": {"kind": "wait", "signal": "go"}},
      {"name": "w2", "action": {"kind": "wait", "signal": "go"}},
      {"name": "w3", "action": {"kind": "wait", "signal": "go"}}])",
                 "w2"};
  transition s;
  w.m.signal("go", "1", "", w.f.now, s);
  w.m.signal("go", "2", "", w.f.now, s);
  BOOST_TEST(types(s) == (strings{"signal_received", "signal_received"}));
  transition t;
  w.m.step_finished(0, 1, ok(), w.f.now, t);
  // Both kept signals are consumed in the order they came; the third wait waits.
  BOOST_TEST(types(t) == (strings{"step_succeeded:a", "step_started:w1", "step_succeeded:w1",
                                  "step_started:w2", "step_succeeded:w2", "step_started:w3",
                                  "step_waiting:w3"}));
  BOOST_TEST(t.events[2].output == "1");
  BOOST_TEST(t.events[4].output == "2");
  BOOST_TEST(t.events[6].wake_at_us == 0); // no time limit: no timer
  BOOST_TEST(find_command(t, command::kind::wake) == nullptr);
  // Replayed, the same history leaves the same state: w3 waits, nothing kept.
  transition all = w.t;
  for (auto* x : {&s, &t})
    all.events.insert(all.events.end(), x->events.begin(), x->events.end());
  auto r = replayed(w.f, "w2", all);
  transition u;
  r->signal("go", "3", "", w.f.now, u);
  BOOST_TEST(types(u) == (strings{"signal_received", "step_succeeded:w3", "saga_completed"}));
  BOOST_TEST(u.events[1].output == "3");
}

BOOST_AUTO_TEST_CASE(a_signal_id_received_before_is_a_duplicate_and_is_stored_once) {
  waiting_saga w{pay_then_ship, "w3"};
  transition s;
  BOOST_TEST((w.m.signal("paid", "1", "pay-7", w.f.now, s) == signal_result::stored));
  BOOST_TEST((w.m.signal("paid", "1", "pay-7", w.f.now, s) == signal_result::duplicate));
  BOOST_TEST(types(s) == (strings{"signal_received"}));
  BOOST_TEST(s.events[0].signal_id == "pay-7");
  transition all = w.t;
  all.events.insert(all.events.end(), s.events.begin(), s.events.end());
  auto r = replayed(w.f, "w3", all); // the ID is remembered from the events
  transition u;
  BOOST_TEST((r->signal("paid", "1", "pay-7", w.f.now, u) == signal_result::duplicate));
  BOOST_TEST(u.empty());
}

BOOST_AUTO_TEST_CASE(a_wait_that_times_out_fails_for_good_and_the_saga_compensates) {
  waiting_saga w{pay_then_ship, "w4"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  auto wake = find_command(w.t, command::kind::wake);
  BOOST_REQUIRE(wake);
  BOOST_TEST(wake->at_us == w.f.now + 1000000);
  transition due;
  w.m.wake_due(1, 1, false, w.f.now + 1000000, due);
  BOOST_TEST(types(due) == (strings{"step_failed:paid", "compensation_started:reserve"}));
  BOOST_TEST((due.events[0].error == error_kind::timeout));
  BOOST_TEST(due.events[0].message == "no signal \"paid\" came within 1000 ms");
  transition c;
  w.m.compensation_finished(0, 1, ok(), w.f.now + 1000001, c);
  BOOST_TEST(types(c) == (strings{"compensation_succeeded:reserve", "saga_compensated"}));
  transition after;
  BOOST_TEST((w.m.signal("paid", "1", "", w.f.now + 2000000, after) == signal_result::ended));
  BOOST_TEST(after.empty());
}

BOOST_AUTO_TEST_CASE(a_wait_whose_retry_says_so_waits_again_after_a_timeout) {
  waiting_saga w{R"([{"name": "paid", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 100},
                      "retry": {"max_attempts": 2, "initial_interval_ms": 10, "jitter": 0}}])",
                 "w5"};
  transition due;
  w.m.wake_due(0, 1, false, w.f.now + 100000, due);
  BOOST_TEST(types(due) == (strings{"step_failed:paid", "step_retry_scheduled:paid"}));
  transition again;
  w.m.retry_due(0, 2, false, w.f.now + 110000, again);
  BOOST_TEST(types(again) == (strings{"step_started:paid", "step_waiting:paid"}));
}

BOOST_AUTO_TEST_CASE(cancelling_a_waiting_saga_compensates_it_at_once) {
  waiting_saga w{pay_then_ship, "w6"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  transition c;
  BOOST_TEST(w.m.cancel(w.f.now + 5, c));
  BOOST_TEST(types(c) == (strings{"cancel_requested", "step_failed:paid",
                                  "compensation_started:reserve"}));
  BOOST_TEST((c.events[1].error == error_kind::cancelled));
  BOOST_TEST(c.events[1].message
             == "the saga was cancelled while attempt 1 was waiting: abandoned");
}

BOOST_AUTO_TEST_CASE(the_deadline_ends_a_wait_naming_itself) {
  waiting_saga w{pay_then_ship, "w7", "{}", R"("deadline_ms": 500)"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  transition d;
  w.m.deadline_due(w.f.now + 500000, d);
  BOOST_TEST(types(d) == (strings{"step_failed:paid", "compensation_started:reserve"}));
  BOOST_TEST(d.events[0].message
             == "the saga's deadline (500 ms) passed while attempt 1 was waiting: abandoned");
}

BOOST_AUTO_TEST_CASE(a_wait_in_a_parallel_group_is_abandoned_when_a_sibling_fails_for_good) {
  waiting_saga w{R"([{"parallel": [
      {"name": "charge", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"},
       "retry": {"max_attempts": 1}},
      {"name": "approved", "action": {"kind": "wait", "signal": "approved"}}]}])",
                 "w8"};
  transition t;
  w.m.step_finished(0, 1, fails(error_kind::permanent), w.f.now, t);
  BOOST_TEST(types(t) == (strings{"step_failed:charge", "step_failed:approved", "saga_compensated"}));
  BOOST_TEST((t.events[1].error == error_kind::cancelled));
}

BOOST_AUTO_TEST_CASE(a_sleep_compensation_waits_before_it_succeeds_and_resumes_as_a_wake) {
  waiting_saga w{R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "sleep", "ms": 200}},
      {"name": "b", "action": {"kind": "simulate"}, "retry": {"max_attempts": 1}}])",
                 "w9"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  w.m.step_finished(1, 1, fails(error_kind::permanent), w.f.now, w.t);
  BOOST_TEST((w.t.events.back().type == event_type::step_waiting));
  BOOST_TEST(w.t.events.back().compensation);
  auto r = replayed(w.f, "w9", w.t);
  transition resumed;
  r->resume(w.f.now + 1, resumed);
  auto wake = find_command(resumed, command::kind::wake);
  BOOST_REQUIRE(wake); // a restart waits the same time, running nothing
  BOOST_TEST(wake->compensation);
  BOOST_TEST(wake->at_us == w.f.now + 200000);
  BOOST_TEST(find_command(resumed, command::kind::compensate) == nullptr);
  transition due;
  r->wake_due(0, 1, true, w.f.now + 200000, due);
  BOOST_TEST(types(due) == (strings{"compensation_succeeded:a", "saga_compensated"}));
}

BOOST_AUTO_TEST_CASE(a_signal_stored_while_no_process_ran_the_saga_ends_its_wait_on_resume) {
  waiting_saga w{pay_then_ship, "w11"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  storage::event e; // as `nexus signal --data-dir` appends it
  e.seq = w.t.events.back().seq + 1;
  e.ts_us = w.f.now + 5;
  e.cid = "w11";
  e.type = event_type::signal_received;
  e.saga = "s";
  e.signal = "paid";
  e.data = "7";
  w.t.events.push_back(e);
  auto r = replayed(w.f, "w11", w.t);
  transition resumed;
  r->resume(w.f.now + 10, resumed);
  BOOST_TEST(types(resumed) == (strings{"step_succeeded:paid", "step_started:ship"}));
  BOOST_TEST(resumed.events[0].output == "7");
}

BOOST_AUTO_TEST_CASE(a_signal_id_sent_again_after_the_end_is_a_duplicate_not_a_refusal) {
  waiting_saga w{pay_then_ship, "w12"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  w.m.signal("paid", "1", "hook-1", w.f.now, w.t);
  w.m.step_finished(2, 1, ok(), w.f.now, w.t);
  BOOST_REQUIRE(w.m.finished());
  transition t;
  BOOST_TEST((w.m.signal("paid", "1", "hook-1", w.f.now, t) == signal_result::duplicate));
  BOOST_TEST((w.m.signal("paid", "1", "hook-2", w.f.now, t) == signal_result::ended));
  BOOST_TEST(t.empty());
}

BOOST_AUTO_TEST_CASE(no_prefix_of_a_waiting_history_is_left_idle) {
  waiting_saga w{pay_then_ship, "w10"};
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  w.m.signal("paid", "1", "x", w.f.now + 1, w.t);
  w.m.step_finished(2, 1, ok(), w.f.now + 2, w.t);
  BOOST_REQUIRE(w.m.finished());
  check_every_prefix_resumes(w.f, "w10", w.t);
}

BOOST_AUTO_TEST_CASE(idle_until_is_the_earliest_wake_of_a_group_that_runs_nothing) {
  waiting_saga w{R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"parallel": [
        {"name": "nap", "action": {"kind": "sleep", "ms": 30000}},
        {"name": "paid", "action": {"kind": "wait", "signal": "paid", "timeout_ms": 20000}},
        {"name": "ok", "action": {"kind": "wait", "signal": "ok"}}]}])",
                 "i1"};
  BOOST_TEST(!w.m.idle_until().has_value()); // a runs
  w.m.step_finished(0, 1, ok(), w.f.now, w.t);
  BOOST_REQUIRE(w.m.idle_until().has_value());
  BOOST_TEST(*w.m.idle_until() == w.f.now + 20000000); // paid's timeout comes first
  // The same from the events alone, as a saga brought back from the log sees it.
  BOOST_TEST(*replayed(w.f, "i1", w.t)->idle_until() == w.f.now + 20000000);
  w.m.signal("paid", "1", "", w.f.now + 1, w.t);
  BOOST_TEST(*w.m.idle_until() == w.f.now + 30000000);
  w.m.wake_due(1, 1, false, w.f.now + 30000000, w.t);
  BOOST_TEST(*w.m.idle_until() == saga_machine::never); // ok waits for its signal alone
  w.m.signal("ok", "1", "", w.f.now + 30000001, w.t);
  BOOST_TEST(w.m.finished());
  BOOST_TEST(!w.m.idle_until().has_value());
}

BOOST_AUTO_TEST_CASE(idle_until_counts_a_retry_back_off_and_the_deadline) {
  waiting_saga w{R"([{"name": "a", "action": {"kind": "simulate"},
                      "retry": {"max_attempts": 3, "initial_interval_ms": 60000,
                                "backoff": 1, "max_interval_ms": 60000, "jitter": 0}},
                     {"name": "never", "action": {"kind": "wait", "signal": "x"}}])",
                 "i2"};
  w.m.step_finished(0, 1, fails(error_kind::transient), w.f.now, w.t);
  BOOST_REQUIRE(w.m.idle_until().has_value());
  BOOST_TEST(*w.m.idle_until() == w.f.now + 60000000);
  BOOST_TEST(waits_long(w.m, w.f.now, 5000000));
  BOOST_TEST(!waits_long(w.m, w.f.now + 56000000, 5000000)); // 4 s left: stays in memory
  w.m.retry_due(0, 2, false, w.f.now + 60000000, w.t);
  BOOST_TEST(!w.m.idle_until().has_value()); // attempt 2 runs

  waiting_saga bare{R"([{"name": "never", "action": {"kind": "wait", "signal": "x"}}])", "i3"};
  BOOST_TEST(*bare.m.idle_until() == saga_machine::never);
  waiting_saga bounded{R"([{"name": "never", "action": {"kind": "wait", "signal": "x"}}])", "i4",
                       "{}", R"("deadline_ms": 90000)"};
  BOOST_TEST(*bounded.m.idle_until() == bounded.f.now + 90000000); // the deadline wakes it
}

BOOST_AUTO_TEST_CASE(parking_is_written_with_the_events_and_undone_by_the_next_write) {
  waiting_saga w{pay_then_ship, "p1"};
  transition t;
  w.m.step_finished(0, 1, ok(), w.f.now, t);
  auto park = make_append(w.m, t);
  record_parking(w.m, std::nullopt, waits_long(w.m, w.f.now, 500000), w.f.now, park);
  BOOST_REQUIRE(park.row.has_value());
  BOOST_TEST(park.row->parked);
  BOOST_TEST(park.row->wake_us == w.f.now + 1000000);
  BOOST_TEST(park.timer_set.value_or(0) == w.f.now + 1000000);
  BOOST_TEST(!park.timer_clear.has_value());
  auto idle = w.m.idle_until();
  transition signalled;
  w.m.signal("paid", "1", "", w.f.now + 10, signalled);
  auto back = make_append(w.m, signalled);
  record_parking(w.m, idle, waits_long(w.m, w.f.now + 10, 500000), w.f.now + 10, back);
  BOOST_REQUIRE(back.row.has_value());
  BOOST_TEST(!back.row->parked);
  BOOST_TEST(back.timer_clear.value_or(0) == w.f.now + 1000000);
  BOOST_TEST(!back.timer_set.has_value());
  // Busy before and after: nothing but the events.
  transition shipped;
  w.m.step_finished(2, 1, ok(), w.f.now + 20, shipped);
  auto plain = make_append(w.m, shipped);
  auto rows = plain.row.has_value(); // the end rewrites the row anyway
  record_parking(w.m, std::nullopt, false, w.f.now + 20, plain);
  BOOST_TEST(plain.row.has_value() == rows);
  BOOST_TEST(!plain.timer_clear.has_value());
  BOOST_TEST(!plain.timer_set.has_value());
}

BOOST_AUTO_TEST_CASE(a_wait_short_of_the_threshold_keeps_the_saga_in_memory) {
  waiting_saga w{pay_then_ship, "p2"};
  transition t;
  w.m.step_finished(0, 1, ok(), w.f.now, t);
  BOOST_TEST(!waits_long(w.m, w.f.now, 5000000)); // 1 s timeout
  auto a = make_append(w.m, t);
  record_parking(w.m, std::nullopt, false, w.f.now, a);
  BOOST_TEST(!a.row.has_value());
  BOOST_TEST(!a.timer_set.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_saga_waiting_test
