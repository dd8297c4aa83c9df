// The coordinator's decisions without actors, clocks or a log: resume
// before new, max_in_flight, back-pressure, the one start path, duplicates,
// cancels reaching a waiting saga, and the run's end and counts.
#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"
#include "runtime/saga_admission.hpp"

namespace runtime_saga_admission_test {

using namespace nexus;
using runtime::saga_admission;
using runtime::start_result;
using runtime::start_source;
using kind = saga_admission::action::kind;

namespace {

config::workflow workflow(int max_in_flight) {
  auto r = config::parse_workflow(
    R"({"runtime": {"max_in_flight": )" + std::to_string(max_in_flight)
      + R"(}, "sagas": {"order": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})",
    "wf.json");
  BOOST_REQUIRE(r.ok());
  return *r.value;
}

config::saga_request request(std::string cid) {
  config::saga_request req;
  req.saga = "order";
  req.correlation_id = std::move(cid);
  req.input = "{}";
  return req;
}

using unfinished = std::vector<std::pair<std::string, std::string>>;

/// Starts `cid` through the whole path and makes its first events durable.
void start_durably(saga_admission& a, const std::string& cid, std::int64_t now_us,
                   start_source source = start_source::submission) {
  auto req = request(cid);
  std::string why;
  BOOST_REQUIRE((a.check(req, source, why) == start_result::started));
  auto append = a.begin_start(std::move(req), now_us);
  BOOST_REQUIRE(!append.events.empty());
  a.start_written(cid);
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_admission_policy)

BOOST_AUTO_TEST_CASE(unfinished_sagas_are_resumed_before_any_new_one_as_many_as_fit) {
  auto wf = workflow(2);
  saga_admission a{wf, false};
  a.begin(0, unfinished{{"u-1", "order"}, {"u-2", "order"}, {"u-3", "order"}}, 0);
  start_durably(a, "new-1", 10); // written at once, but it waits behind the resumes
  auto first = a.next();
  BOOST_TEST((first.what == kind::resume));
  BOOST_TEST(first.unfinished.size() == 2u); // all that fit, in one batch
  a.resumed("u-1", 5, 20);
  a.resumed("u-2", 7, 20);
  BOOST_TEST((a.next().what == kind::none)); // full
  a.ended("u-1", "completed", 30);
  auto third = a.next();
  BOOST_TEST((third.what == kind::resume));
  BOOST_TEST(third.unfinished.at(0).first == "u-3");
  a.resumed("u-3", 1, 40);
  a.ended("u-2", "completed", 50);
  auto launch = a.next();
  BOOST_TEST((launch.what == kind::launch));
  BOOST_TEST(launch.saga.machine->cid() == "new-1");
  BOOST_TEST(!launch.saga.commands.empty()); // its start's commands, to go out now
  auto s = a.summary(100);
  BOOST_TEST(s.resumed == 3u);
  BOOST_TEST(s.started == 1u);
  BOOST_TEST(s.replayed_events == 13u);
  BOOST_TEST(s.peak_in_flight == 2u);
  BOOST_TEST(s.completed == 2u);
}

BOOST_AUTO_TEST_CASE(input_lines_are_read_ahead_and_taken_only_while_they_fit) {
  auto wf = workflow(2);
  saga_admission a{wf, true};
  a.begin(0, {}, 3);
  BOOST_TEST(a.summary(0).total == 3u);
  auto read = a.next();
  BOOST_TEST((read.what == kind::read));
  BOOST_TEST(read.count == saga_admission::read_batch);
  BOOST_TEST((a.next().what == kind::none)); // one read at a time
  a.input_read({request("i-1"), request("i-2"), request("i-3")}, 1, true, "");
  auto t1 = a.next();
  BOOST_TEST((t1.what == kind::take));
  BOOST_TEST(t1.request.correlation_id == "i-1");
  std::string why;
  BOOST_TEST((a.check(t1.request, start_source::input, why) == start_result::started));
  a.begin_start(std::move(t1.request), 1);
  auto t2 = a.next();
  BOOST_TEST((t2.what == kind::take));
  a.begin_start(std::move(t2.request), 1);
  // Two being written fill the two places: the third line waits.
  BOOST_TEST((a.next().what == kind::none));
  a.start_written("i-1");
  BOOST_TEST((a.next().what == kind::launch));
  BOOST_TEST((a.next().what == kind::none));
  a.ended("i-1", "completed", 2);
  a.start_written("i-2");
  BOOST_TEST((a.next().what == kind::launch));
  BOOST_TEST((a.next().what == kind::take));
  BOOST_TEST(a.summary(3).skipped == 1u);
}

BOOST_AUTO_TEST_CASE(a_pressing_stage_holds_every_new_saga_until_it_drains) {
  auto wf = workflow(10);
  saga_admission a{wf, false};
  a.begin(0, {}, 0);
  start_durably(a, "s-1", 0);
  a.pressure("order/a", true);
  a.pressure("order/b", true);
  BOOST_TEST((a.next().what == kind::none));
  a.pressure("order/a", false);
  BOOST_TEST((a.next().what == kind::none)); // b still presses
  a.pressure("order/b", false);
  BOOST_TEST((a.next().what == kind::launch));
}

BOOST_AUTO_TEST_CASE(a_saga_here_is_a_duplicate_whatever_state_it_is_in) {
  auto wf = workflow(1);
  saga_admission a{wf, false};
  a.begin(0, {}, 0);
  std::string why;
  auto one = request("d-1");
  BOOST_TEST((a.check(one, start_source::submission, why) == start_result::started));
  a.begin_start(std::move(one), 0);
  auto again = request("d-1");
  BOOST_TEST((a.check(again, start_source::submission, why) == start_result::duplicate)); // being written
  a.start_written("d-1");
  BOOST_TEST((a.check(again, start_source::submission, why) == start_result::duplicate)); // waiting
  BOOST_TEST((a.next().what == kind::launch));
  BOOST_TEST((a.check(again, start_source::submission, why) == start_result::duplicate)); // live
  a.refused(start_result::duplicate);
  BOOST_TEST(a.summary(0).duplicates == 1u);
  auto bad = request("x y");
  BOOST_TEST((a.check(bad, start_source::submission, why) == start_result::bad_id));
  auto unknown = request("u-1");
  unknown.saga = "refund";
  BOOST_TEST((a.check(unknown, start_source::submission, why) == start_result::unknown_saga));
  auto input = request("i-1");
  input.input = "[1]";
  BOOST_TEST((a.check(input, start_source::submission, why) == start_result::bad_input));
}

BOOST_AUTO_TEST_CASE(a_closed_run_refuses_submissions_but_reads_its_input_to_the_end) {
  auto wf = workflow(4);
  saga_admission a{wf, true};
  a.begin(0, {}, 0);
  a.close();
  std::string why;
  auto sub = request("s-1");
  BOOST_TEST((a.check(sub, start_source::submission, why) == start_result::closed));
  auto line = request("i-1");
  BOOST_TEST((a.check(line, start_source::input, why) == start_result::started));
  BOOST_TEST(!a.finished()); // the input is not read to its end
  BOOST_TEST((a.next().what == kind::read));
  a.input_read({}, 0, true, "");
  BOOST_TEST(a.finished());
  a.stop("the log is gone", 1);
  BOOST_TEST((a.check(line, start_source::input, why) == start_result::closed));
}

BOOST_AUTO_TEST_CASE(a_cancel_brings_forward_a_saga_waiting_for_room_or_for_its_resume) {
  auto wf = workflow(1);
  saga_admission a{wf, false};
  a.begin(0, unfinished{{"u-1", "order"}, {"u-2", "order"}}, 0);
  start_durably(a, "w-1", 5);
  auto first = a.next();
  BOOST_TEST(first.unfinished.size() == 1u);
  a.resumed("u-1", 1, 10);
  BOOST_TEST((a.next().what == kind::none)); // full
  auto resume = a.bring_forward("u-2");    // regardless of room
  BOOST_TEST((resume.what == kind::resume));
  BOOST_TEST(resume.unfinished.at(0).first == "u-2");
  a.resumed("u-2", 1, 10);
  auto launch = a.bring_forward("w-1");
  BOOST_TEST((launch.what == kind::launch));
  BOOST_TEST(launch.saga.machine->cid() == "w-1");
  BOOST_TEST(a.live("w-1"));
  BOOST_TEST((a.bring_forward("w-1").what == kind::none)); // live already: the shell cancels it
  BOOST_TEST(a.not_ended() == 3u);
}

BOOST_AUTO_TEST_CASE(latency_counts_from_the_start_for_a_waiting_saga_and_from_the_resume) {
  auto wf = workflow(1);
  saga_admission a{wf, false};
  a.begin(1'000'000, unfinished{{"u-1", "order"}}, 0);
  start_durably(a, "w-1", 1'000'000); // started at 1 s
  a.next();
  a.resumed("u-1", 1, 2'000'000);   // resumed at 2 s
  a.ended("u-1", "compensated", 2'010'000); // 10 ms later
  BOOST_TEST((a.next().what == kind::launch)); // goes live at 2.01 s
  a.ended("w-1", "completed", 3'000'000);      // 2 s after its start
  auto s = a.summary(4'000'000);
  BOOST_TEST(s.seconds == 3.0, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(s.latency_max_ms == 2000.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(s.latency_p50_ms == 10.0, boost::test_tools::tolerance(0.02));
  BOOST_TEST(s.compensated == 1u);
  BOOST_TEST(s.completed == 1u);
}

BOOST_AUTO_TEST_CASE(an_input_error_stops_the_run_once_the_lines_before_it_are_taken) {
  auto wf = workflow(4);
  saga_admission a{wf, true};
  a.begin(0, {}, 0);
  a.close();
  BOOST_TEST((a.next().what == kind::read));
  a.input_read({request("i-1")}, 0, true, "line 2: not JSON");
  BOOST_TEST((a.next().what == kind::take));
  BOOST_TEST(!a.stopping());
  BOOST_TEST((a.next().what == kind::none));
  BOOST_TEST(a.stopping());
  auto s = a.summary(0);
  BOOST_TEST(s.error == "line 2: not JSON");
  BOOST_TEST(s.exit_status == 2);
  BOOST_TEST(a.finished());
}

BOOST_AUTO_TEST_CASE(a_failed_start_write_is_forgotten_and_a_reopen_keeps_its_saga_busy) {
  auto wf = workflow(4);
  saga_admission a{wf, false};
  a.begin(0, {}, 0);
  a.close();
  auto req = request("f-1");
  a.begin_start(std::move(req), 0);
  BOOST_TEST(!a.finished());
  a.start_failed("f-1");
  a.stop("event log write failed", 1);
  BOOST_TEST(!a.busy("f-1"));
  BOOST_TEST(a.finished());
  a.begin_reopen("r-1");
  BOOST_TEST(a.busy("r-1"));
  a.reopen_ended("r-1");
  BOOST_TEST(!a.busy("r-1"));
}

BOOST_AUTO_TEST_CASE(parked_sagas_hold_no_room_and_are_counted_once_until_they_are_back) {
  auto r = config::parse_workflow(
    R"({"runtime": {"max_in_flight": 1}, "sagas": {"order": {"steps": [
        {"name": "paid", "action": {"kind": "wait", "signal": "paid"}}]}}})",
    "wf.json");
  BOOST_REQUIRE(r.ok());
  saga_admission a{*r.value, false};
  a.begin(0, {}, 0, 2); // two parked by an earlier run
  start_durably(a, "p-1", 10); // its first step waits with no time limit: parked at once
  BOOST_TEST((a.next().what == kind::none)); // nothing to launch
  auto s = a.summary(20);
  BOOST_TEST(s.parked == 3u);
  BOOST_TEST(s.in_memory == 0u);
  BOOST_TEST(s.started == 1u);
  BOOST_TEST(s.by_saga.at("order").started == 1u);
  BOOST_TEST(a.not_ended() == 3u);
  a.close(false);
  BOOST_TEST(a.finished()); // a server's stop leaves parked sagas in the log
  a.close(true);
  BOOST_TEST(!a.finished()); // a run's end waits for them

  a.wake("old-1", "hash");
  BOOST_TEST(a.waking("old-1"));
  BOOST_TEST(a.summary(30).parked == 3u); // woken, not yet back: still parked, once
  BOOST_TEST(a.summary(30).to_resume == 0u);
  auto back = a.next();
  BOOST_REQUIRE((back.what == kind::resume));
  a.resumed("old-1", 3, 40);
  s = a.summary(40);
  BOOST_TEST(s.parked == 2u);
  BOOST_TEST(s.in_memory == 1u);
  BOOST_TEST(s.resumed == 0u); // brought back, not resumed from a crash
  a.wake("old-2", "hash");
  BOOST_TEST((a.next().what == kind::none)); // no room: it waits for old-1
  a.parked("old-1");
  BOOST_TEST(a.summary(50).parked == 3u);
  auto second = a.next();
  BOOST_REQUIRE((second.what == kind::resume));
  a.not_resumed("old-2"); // its rebuild failed: parked still
  BOOST_TEST(!a.waking("old-2"));
  BOOST_TEST(a.summary(60).parked == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_saga_admission_test
