#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <fstream>
#include <iterator>
#include <map>

#include "actors/engine.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/saga_writes.hpp"
#include "runtime/step_context.hpp"
#include "storage/event_log.hpp"
#include "tests/temp_dir.hpp"

namespace actors_engine_test {

using namespace nexus;

namespace {

/// A run of `n` generated sagas of saga `s`.
actors::run_options generated(std::uint64_t n,
                              const runtime::handler_registry* handlers = nullptr) {
  actors::run_options o;
  o.generate = n;
  o.saga = "s";
  o.handlers = handlers;
  return o;
}

/// A run fed from the input file `path`.
actors::run_options from_file(const std::string& path) {
  actors::run_options o;
  o.input_path = path;
  return o;
}

config::workflow load(const std::string& steps, const std::string& dir) {
  auto r = config::parse_workflow(
    R"({"runtime": {"threads": 2, "data_dir": ")" + dir + R"(", "max_in_flight": 64},
        "defaults": {"retry": {"max_attempts": 3, "initial_interval_ms": 1,
                               "max_interval_ms": 5, "jitter": 0.1}},
        "sagas": {"s": {"steps": )" + steps + "}}}",
    "test.json");
  for (auto& e : r.errors)
    BOOST_TEST_MESSAGE(e.to_string());
  BOOST_REQUIRE(r.ok());
  return std::move(*r.value);
}

std::unique_ptr<storage::event_log> open_log(const std::string& dir) {
  std::string err;
  auto log = storage::event_log::open(storage::log_options::writer(dir, config::durability::sync), err);
  BOOST_REQUIRE_MESSAGE(log, err);
  return log;
}

/// Every saga's events as "type:step" strings, checking that sequence
/// numbers run from 1 without gaps.
std::map<std::string, std::vector<std::string>> histories(const std::string& dir) {
  auto log = open_log(dir);
  std::map<std::string, std::vector<std::string>> out;
  std::vector<std::string> cids;
  log->for_each_saga([&](std::string_view cid, const storage::saga_row&) {
    cids.emplace_back(cid);
    return true;
  });
  for (auto& cid : cids) {
    std::uint64_t expected = 1;
    log->read_events(cid, 1, UINT64_MAX, [&](const storage::event& e) {
      BOOST_TEST(e.seq == expected++);
      out[cid].push_back(std::string{storage::to_string(e.type)} + (e.step.empty() ? "" : ":" + e.step));
      return true;
    });
  }
  return out;
}

const char* three_steps_last_fails = R"([
  {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
  {"name": "b", "action": {"kind": "simulate", "latency_ms": 1}, "compensate": {"kind": "simulate"}},
  {"name": "c", "action": {"kind": "simulate", "fail_first": 100, "fail_kind": "permanent"},
   "compensate": {"kind": "simulate"}}])";

} // namespace

BOOST_AUTO_TEST_SUITE(engine)

BOOST_AUTO_TEST_CASE(generated_sagas_complete_and_land_in_the_log) {
  test::temp_dir dir;
  auto wf = load(R"([
    {"name": "a", "action": {"kind": "simulate"}},
    {"name": "b", "action": {"kind": "simulate", "latency_ms": 1, "fail_first": 2}},
    {"name": "c", "action": {"kind": "simulate"}}])", dir.path());
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, generated(200), s), 0);
  BOOST_TEST(s.started == 200u);
  BOOST_TEST(s.completed == 200u);
  auto h = histories(dir.path());
  BOOST_REQUIRE_EQUAL(h.size(), 200u);
  // 1 start + a (2) + b three attempts (2 + 2 + 2 + 2) + c (2) + completed
  for (auto& [cid, events] : h) {
    BOOST_TEST(events.size() == 14u, cid);
    BOOST_TEST(events.back() == "saga_completed");
  }
  BOOST_TEST(s.events == 200u * 14u);
}

BOOST_AUTO_TEST_CASE(a_failing_last_step_compensates_earlier_steps_in_reverse_order) {
  test::temp_dir dir;
  auto wf = load(three_steps_last_fails, dir.path());
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, generated(20), s), 0);
  BOOST_TEST(s.compensated == 20u);
  for (auto& [cid, events] : histories(dir.path())) {
    std::vector<std::string> end(events.end() - 6, events.end());
    BOOST_TEST(end == (std::vector<std::string>{"step_failed:c", "compensation_started:b",
                                                "compensation_succeeded:b", "compensation_started:a",
                                                "compensation_succeeded:a", "saga_compensated"}),
               cid);
  }
}

BOOST_AUTO_TEST_CASE(input_lines_start_sagas_once_per_correlation_id) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "action": {"kind": "simulate"}}])", dir.path());
  auto input = dir.write("in.jsonl", R"({"saga": "s", "correlation_id": "ord-1", "input": {"x": 1}}

{"saga": "s", "correlation_id": "ord-2"}
{"saga": "s", "correlation_id": "ord-1"}
)");
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, from_file(input), s), 0);
  BOOST_TEST(s.started == 2u);
  BOOST_TEST(s.duplicates == 1u);
  runtime::run_summary again;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, from_file(input), again), 0);
  BOOST_TEST(again.started == 0u);
  BOOST_TEST(again.duplicates == 3u);
  BOOST_TEST(histories(dir.path()).at("ord-1").size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_bad_input_line_stops_the_run_with_status_2_naming_the_line) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "action": {"kind": "simulate"}}])", dir.path());
  auto input = dir.write("in.jsonl", "{\"saga\": \"s\", \"correlation_id\": \"ok-1\"}\n"
                                     "{\"saga\": \"s\", \"correlation_id\": \"bad id\"}\n");
  runtime::run_summary s;
  BOOST_TEST(actors::run_workflow(wf, from_file(input), s) == 2);
  BOOST_TEST(s.error.find("in.jsonl:2:") != std::string::npos, s.error);
  BOOST_TEST(s.error.find("\"bad id\"") != std::string::npos, s.error);
  // what was stored before the bad line is intact and finished
  BOOST_TEST(histories(dir.path()).at("ok-1").back() == "saga_completed");
}

/// Writes the first events of saga `cid` of "s" as a crashed run would have
/// left them: its start, and with `first_step_done` its first step's success.
void leave_unfinished(const std::string& dir, const config::workflow& wf, const std::string& cid,
                      bool first_step_done) {
  auto log = open_log(dir);
  runtime::saga_machine m{wf.sagas.at("s"), cid};
  runtime::transition t;
  m.start("{}", 1000, t);
  if (first_step_done)
    m.step_finished(0, 1, runtime::outcome::success("{}"), 2000, t);
  auto req = runtime::make_append(m, t);
  BOOST_REQUIRE(log->write({&req}).is_ok());
}

BOOST_AUTO_TEST_CASE(an_unfinished_saga_in_the_log_is_resumed_and_finished) {
  test::temp_dir dir;
  auto wf = load(three_steps_last_fails, dir.path());
  leave_unfinished(dir.path(), wf, "crashed-1", true);
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, {}, s), 0);
  BOOST_TEST(s.resumed == 1u);
  BOOST_TEST(s.compensated == 1u);
  BOOST_TEST(s.replayed_events == 4u); // saga_started, step_started:a, step_succeeded:a, step_started:b
  BOOST_TEST(s.replay_seconds > 0.0);
  auto events = histories(dir.path()).at("crashed-1");
  BOOST_TEST(events.at(3) == "step_started:b"); // written before the crash
  BOOST_TEST(events.back() == "saga_compensated");
}

// What a submitter that lost a leader asks the next (the gateway's watch):
// an unfinished saga from the log is waited for through its resume, an
// ended one is told at once, an unknown one is "".
BOOST_AUTO_TEST_CASE(watch_tells_a_resumed_saga_end_an_ended_one_at_once_and_an_unknown_one_nothing) {
  test::temp_dir dir;
  auto wf = load(three_steps_last_fails, dir.path());
  leave_unfinished(dir.path(), wf, "crashed-1", false);
  std::mutex m;
  std::condition_variable cv;
  std::map<std::string, std::string> heard;
  auto hear = [&](std::string name) {
    return [&, name](const std::string& status) {
      std::lock_guard<std::mutex> lock{m};
      heard[name] = status;
      cv.notify_all();
    };
  };
  // Waits for the callback itself, however long it takes (ctest's timeout
  // bounds a test that never hears).
  auto wait_for = [&](const std::string& name) {
    std::unique_lock<std::mutex> lock{m};
    cv.wait(lock, [&] { return heard.count(name) > 0; });
  };
  {
    actors::engine e{wf, {}};
    BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
    e.watch("crashed-1", std::chrono::seconds(30), hear("crashed-1"));
    e.watch("nobody", std::chrono::seconds(30), hear("nobody"));
    e.start_async("s", "new-1", "{}",
                  [&](const std::string&, actors::start_result, const std::string& status) {
                    hear("new-1 ended")(status);
                  });
    wait_for("crashed-1");
    wait_for("nobody");
    wait_for("new-1 ended");
    e.watch("new-1", std::chrono::seconds(30), hear("new-1"));
    wait_for("new-1");
    e.wait();
  }
  BOOST_TEST(heard.at("crashed-1") == "compensated");
  BOOST_TEST(heard.at("nobody") == "");
  BOOST_TEST(heard.at("new-1 ended") == "compensated");
  BOOST_TEST(heard.at("new-1") == "compensated");
}

BOOST_AUTO_TEST_CASE(many_unfinished_sagas_read_in_a_row_each_resume_from_their_own_events) {
  test::temp_dir dir;
  auto wf = load(three_steps_last_fails, dir.path());
  // Sagas left at different points, their IDs adjacent in key order, so
  // that one saga's read must stop where the next one's events begin.
  std::uint64_t written = 0;
  {
    auto log = open_log(dir.path());
    for (int i = 0; i < 30; ++i) {
      runtime::saga_machine m{wf.sagas.at("s"), "c-" + std::to_string(i)};
      runtime::transition t;
      m.start("{}", 1000, t);
      for (int step = 0; step < i % 3; ++step)
        m.step_finished(static_cast<std::uint32_t>(step), 1, runtime::outcome::success("{}"),
                        2000 + step, t);
      written += t.events.size();
      auto req = runtime::make_append(m, t);
      BOOST_REQUIRE(log->write({&req}).is_ok());
    }
  }
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, {}, s), 0);
  BOOST_TEST(s.resumed == 30u);
  BOOST_TEST(s.compensated == 30u); // step c always fails
  BOOST_TEST(s.replayed_events == written);
  for (auto& [cid, events] : histories(dir.path())) {
    auto n = std::stoi(cid.substr(2));
    // Each step that had succeeded before the crash was not run again.
    BOOST_TEST(std::count(events.begin(), events.end(), "step_started:a") == 1, cid);
    BOOST_TEST(std::count(events.begin(), events.end(), "step_succeeded:b") == 1, cid);
    BOOST_TEST(events.at(0) == "saga_started", cid);
    BOOST_TEST(events.back() == "saga_compensated", cid);
    // started; a and b each started and succeeded; c started and failed;
    // b and a compensated (started, succeeded); compensated: 12, as a saga
    // that never stopped has.
    BOOST_TEST(events.size() == 12u, cid << " (left after " << n % 3 << " steps)");
  }
}

BOOST_AUTO_TEST_CASE(a_run_reports_its_sagas_latency_and_its_write_batches) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "action": {"kind": "simulate", "latency_ms": 20}}])",
                 dir.path());
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, generated(10), s), 0);
  BOOST_TEST(s.completed == 10u);
  // Each saga waits 20 ms on its step: none can end sooner.
  BOOST_TEST(s.latency_p50_ms >= 20.0);
  BOOST_TEST(s.latency_p50_ms <= s.latency_p90_ms);
  BOOST_TEST(s.latency_p90_ms <= s.latency_p99_ms);
  BOOST_TEST(s.latency_p99_ms <= s.latency_max_ms * 1.02); // buckets are within 1.6 %
  BOOST_TEST(s.write_batches >= 1u);
  BOOST_TEST(s.write_batches <= s.events);
  BOOST_TEST(s.replayed_events == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(engine_control)

namespace {

const std::string step_sh = std::string{NEXUS_SOURCE_DIR} + "/tests/programs/step.sh";

/// A step that succeeds, then b, which fails transiently and waits a minute
/// before each retry: a saga that stays busy until something stops it.
const char* waits_for_a_retry = R"([
  {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
  {"name": "b", "action": {"kind": "simulate", "fail_first": 1000},
   "retry": {"max_attempts": 0, "initial_interval_ms": 60000, "max_interval_ms": 60000,
             "jitter": 0},
   "compensate": {"kind": "simulate"}}])";

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

BOOST_AUTO_TEST_CASE(exec_steps_run_and_a_compensation_gets_the_output_it_undoes) {
  test::temp_dir dir;
  auto saved = dir.file("compensation-input.json");
  auto wf = load(R"([
    {"name": "reserve", "action": {"kind": "exec", "argv": [")" + step_sh + R"(", "ok"]},
     "compensate": {"kind": "exec", "argv": [")" + step_sh + R"(", "save", ")" + saved + R"("]}},
    {"name": "charge", "action": {"kind": "exec", "argv": [")" + step_sh + R"(", "exit", "2", "card declined"]}}])",
                 dir.path());
  auto input = dir.write("in.jsonl", R"({"saga": "s", "correlation_id": "ord-9", "input": {"sku": "A-7"}})");
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, from_file(input), s), 0);
  BOOST_TEST(s.compensated == 1u);
  auto got = read_file(saved);
  // The compensation's stdin: the saga input, and reserve's own output.
  BOOST_TEST(got.find(R"("input":{"sku":"A-7"})") != std::string::npos, got);
  BOOST_TEST(got.find(R"("output":{"cid":"ord-9","saga":"s","step":"reserve","attempt":1,"key":"ord-9/reserve")")
               != std::string::npos, got);
  BOOST_TEST(histories(dir.path()).at("ord-9").back() == "saga_compensated");
}

BOOST_AUTO_TEST_CASE(a_step_past_its_timeout_fails_as_a_timeout) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "timeout_ms": 50, "retry": {"max_attempts": 1},
                      "action": {"kind": "simulate", "latency_ms": 60000}}])", dir.path());
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, generated(1), s), 0);
  BOOST_TEST(s.compensated == 1u);
  auto log = open_log(dir.path());
  std::vector<storage::event> failed;
  log->for_each_saga([&](std::string_view cid, const storage::saga_row&) {
    log->read_events(std::string{cid}, 1, UINT64_MAX, [&](const storage::event& e) {
      if (e.type == storage::event_type::step_failed)
        failed.push_back(e);
      return true;
    });
    return true;
  });
  BOOST_REQUIRE_EQUAL(failed.size(), 1u);
  BOOST_TEST((failed[0].error == config::error_kind::timeout));
}

BOOST_AUTO_TEST_CASE(the_cpp_api_starts_and_cancels_and_says_when_there_is_nothing_to_cancel) {
  test::temp_dir dir;
  auto wf = load(waits_for_a_retry, dir.path());
  actors::engine e{wf, {}};
  BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
  BOOST_TEST((e.start("s", "c-1") == actors::start_result::started));
  BOOST_TEST((e.start("s", "c-1") == actors::start_result::duplicate));
  BOOST_TEST((e.start("nope", "c-2") == actors::start_result::unknown_saga));
  BOOST_TEST((e.start("s", "bad id") == actors::start_result::bad_id));
  BOOST_TEST((e.start("s", "c-4", "[1, 2]") == actors::start_result::bad_input));
  BOOST_TEST((e.start("s", "c-4", "{\"sku\": ") == actors::start_result::bad_input));
  BOOST_TEST((e.cancel("c-1") == actors::cancel_result::cancelling));
  BOOST_TEST((e.cancel("never-started") == actors::cancel_result::unknown));
  auto s = e.wait();
  BOOST_TEST(s.cancelled == 1u);
  auto h = histories(dir.path()).at("c-1");
  BOOST_TEST(h.back() == "saga_cancelled");
  BOOST_TEST((std::find(h.begin(), h.end(), "compensation_succeeded:a") != h.end()));
  BOOST_TEST((e.start("s", "c-3") == actors::start_result::closed));
  // Cancelling a saga that has ended changes nothing, and says how it ended.
  actors::engine again{wf, {}};
  std::string status;
  BOOST_TEST((again.cancel("c-1", &status) == actors::cancel_result::already_ended));
  BOOST_TEST(status == "cancelled");
  BOOST_TEST(again.wait().events == 0u);
}

BOOST_AUTO_TEST_CASE(start_async_tells_each_saga_end_or_why_it_was_refused) {
  test::temp_dir dir;
  auto wf = load(three_steps_last_fails, dir.path());
  std::mutex m;
  std::map<std::string, std::pair<actors::start_result, std::string>> told;
  auto record = [&](const std::string& cid, actors::start_result r, const std::string& status) {
    std::lock_guard<std::mutex> lock{m};
    BOOST_TEST(told.count(cid) == 0u, cid << " told twice");
    told[cid] = {r, status};
  };
  {
    actors::engine e{wf, {}};
    BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
    for (int i = 0; i < 20; ++i)
      e.start_async("s", "a-" + std::to_string(i), "{}", record);
    e.start_async("nope", "b-1", "{}", record);
    e.start_async("s", "bad id", "{}", record);
    e.start_async("s", "a-0", "{}",
                  [&](const std::string&, actors::start_result r, const std::string& status) {
                    record("duplicate of a-0", r, status);
                  });
    e.start_async("s", "quiet", "{}", {}); // one nobody hears of
    auto s = e.wait();
    BOOST_TEST(s.compensated == 21u);
    BOOST_TEST(s.duplicates == 1u);
    e.start_async("s", "late", "{}", record); // after wait(): closed
  }
  BOOST_TEST(told.size() == 24u);
  for (int i = 0; i < 20; ++i) {
    auto& t = told.at("a-" + std::to_string(i));
    BOOST_TEST((t.first == actors::start_result::started));
    BOOST_TEST(t.second == "compensated");
  }
  BOOST_TEST((told.at("duplicate of a-0").first == actors::start_result::duplicate));
  BOOST_TEST((told.at("b-1").first == actors::start_result::unknown_saga));
  BOOST_TEST((told.at("bad id").first == actors::start_result::bad_id));
  BOOST_TEST((told.at("late").first == actors::start_result::closed));
}

BOOST_AUTO_TEST_CASE(start_async_watchers_do_not_hold_up_an_engine_that_stops) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "timeout_ms": 7200000,
                      "action": {"kind": "simulate", "latency_ms": 3600000}}])", dir.path());
  std::atomic<int> told{0};
  {
    actors::engine e{wf, {}};
    BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
    for (int i = 0; i < 5; ++i)
      e.start_async("s", "w-" + std::to_string(i), "{}",
                    [&](const std::string&, actors::start_result, const std::string&) { ++told; });
    auto s = e.wait_for(std::chrono::milliseconds(0));
    BOOST_TEST(s.interrupted == 5u);
  } // returns: the watchers went with the coordinator
  BOOST_TEST(told.load() == 0);
}

BOOST_AUTO_TEST_CASE(an_engine_flooded_with_starts_stops_every_actor_it_made) {
  // 20,000 starts at once, each with a watcher the coordinator holds, into
  // a stage of one worker on an hour-long step: when the engine stops,
  // every saga must take its exit and every watcher go with the
  // coordinator's state, or the actor system would wait for them for ever
  // (and this test would hang until ctest's timeout).
  test::temp_dir dir;
  auto wf = load(R"([{"name": "a", "timeout_ms": 7200000, "concurrency": 1,
                      "action": {"kind": "simulate", "latency_ms": 3600000}}])", dir.path());
  wf.runtime.max_in_flight = 5000;
  std::atomic<int> told{0};
  constexpr int sagas = 20000;
  runtime::run_summary s;
  {
    actors::engine e{wf, {}};
    BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
    for (int i = 0; i < sagas; ++i)
      e.start_async("s", "f-" + std::to_string(i), "{}",
                    [&](const std::string&, actors::start_result, const std::string&) { ++told; });
    s = e.wait_for(std::chrono::milliseconds(0));
  }
  BOOST_TEST(told.load() == 0); // none ended, none was refused
  BOOST_TEST(s.interrupted + s.duplicates == static_cast<std::uint64_t>(sagas));
  // Every start that was answered is in the log, and resumes next time.
  actors::engine again{wf, {}};
  auto resumed = again.wait_for(std::chrono::milliseconds(0));
  BOOST_TEST(resumed.resumed <= 5000u);
  BOOST_TEST(resumed.interrupted >= s.started);
}

BOOST_AUTO_TEST_CASE(an_input_line_cancels_a_running_saga) {
  test::temp_dir dir;
  auto wf = load(waits_for_a_retry, dir.path());
  auto input = dir.write("in.jsonl", "{\"saga\": \"s\", \"correlation_id\": \"k-1\"}\n"
                                     "{\"saga\": \"s\", \"correlation_id\": \"k-2\"}\n"
                                     "{\"cancel\": \"k-1\"}\n{\"cancel\": \"k-2\"}\n");
  runtime::run_summary s;
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, from_file(input), s), 0);
  BOOST_TEST(s.started == 2u);
  BOOST_TEST(s.cancelled == 2u);
  for (auto& [cid, events] : histories(dir.path())) {
    BOOST_TEST(events.back() == "saga_cancelled", cid);
    BOOST_TEST((std::find(events.begin(), events.end(), "cancel_requested") != events.end()), cid);
  }
}

BOOST_AUTO_TEST_CASE(a_slow_stage_and_a_fast_producer_stay_within_the_bounds) {
  test::temp_dir dir;
  auto wf = load(R"([
    {"name": "fast", "action": {"kind": "simulate"}},
    {"name": "slow", "concurrency": 2, "queue": 8, "action": {"kind": "simulate", "latency_ms": 2}}])",
                 dir.path());
  wf.runtime.max_in_flight = 30;
  actors::engine e{wf, generated(150)};
  BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
  auto s = e.wait();
  BOOST_TEST(s.completed == 150u);
  BOOST_TEST(s.peak_in_flight <= 30u);
  auto slow = e.stages().at("s/slow");
  BOOST_TEST(slow.peak_running <= 2u);
  BOOST_TEST(slow.peak_queued <= 8u);
  BOOST_TEST(slow.peak_queued == 8u); // the producer did outrun it
  BOOST_TEST(slow.refused > 0u);      // and the sagas beyond the queue waited their turn
}

BOOST_AUTO_TEST_CASE(a_handler_that_hangs_past_its_timeout_still_ends_its_saga) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "stuck", "timeout_ms": 50, "retry": {"max_attempts": 1},
                      "action": {"kind": "handler", "name": "hang"}}])", dir.path());
  // The handler returns only once the saga has ended (told by the engine's
  // end callback): the stage must answer for it, or the saga would never end.
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::string status;
  runtime::handler_registry handlers;
  handlers.add("hang", [&](const runtime::step_context&) {
    std::unique_lock<std::mutex> lock{m};
    cv.wait(lock, [&] { return release; });
    return runtime::outcome::success("{}");
  });
  actors::run_options opts;
  opts.handlers = &handlers;
  runtime::run_summary s;
  {
    actors::engine e{wf, opts};
    BOOST_REQUIRE_MESSAGE(e.ok(), e.error());
    e.start_async("s", "stuck-1", "{}",
                  [&](const std::string&, actors::start_result, const std::string& ended) {
                    std::lock_guard<std::mutex> lock{m};
                    status = ended;
                    release = true;
                    cv.notify_all();
                  });
    s = e.wait();
  }
  BOOST_TEST(status == "compensated");
  BOOST_TEST(s.compensated == 1u);
  auto events = histories(dir.path());
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events.begin()->second.at(2) == "step_failed:stuck");
}

BOOST_AUTO_TEST_CASE(handler_steps_run_registered_cpp_code_and_a_missing_one_is_refused) {
  test::temp_dir dir;
  auto wf = load(R"([{"name": "price", "action": {"kind": "handler", "name": "pricing"}}])",
                 dir.path());
  runtime::run_summary s;
  BOOST_TEST(actors::run_workflow(wf, generated(3), s) == 2);
  BOOST_TEST(s.error.find("no C++ handler is registered as pricing") != std::string::npos, s.error);
  runtime::handler_registry handlers;
  handlers.add("pricing", [](const runtime::step_context& c) {
    return runtime::outcome::success(R"({"price":42,"for":")" + c.cid + R"("})");
  });
  BOOST_REQUIRE_EQUAL(actors::run_workflow(wf, generated(3, &handlers), s), 0);
  BOOST_TEST(s.completed == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_engine_test
