// The coordinator through its message protocol, on CAF's deterministic
// scheduler: the real coordinator, writer, sagas and a RocksDB log in a
// temporary directory; the one stage is a probe that holds each call until
// the test answers it. Starts are answered once durable, at most
// max_in_flight sagas are alive, unfinished sagas go before new ones, a
// pressing stage holds new sagas, duplicates are refused, watchers hear of
// the end, close answers the run's summary, and a waiting saga parks and
// comes back for a signal or a cancel, also after a restart.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/coordinator.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/run_watchers.hpp"
#include "actors/system_config.hpp"
#include "tests/actors/deterministic_system.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/rebuild.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/saga_writes.hpp"
#include "runtime/start_request.hpp"
#include "storage/event_log.hpp"
#include "tests/temp_dir.hpp"

namespace actors_coordinator_test {

using namespace nexus;
using runtime::start_result;

namespace {

constexpr const char* one_step = R"([{"name": "a", "action": {"kind": "simulate"}}])";

config::workflow one_step_saga(std::uint32_t max_in_flight, const std::string& dir,
                               const std::string& steps = one_step) {
  auto r = config::parse_workflow(
    R"({"runtime": {"max_in_flight": )" + std::to_string(max_in_flight) + R"(, "data_dir": ")" + dir
      + R"("}, "sagas": {"s": {"steps": )" + steps + "}}}",
    "wf.json");
  BOOST_REQUIRE(r.ok());
  return *r.value;
}

/// What the probes saw.
struct seen {
  std::vector<step_call> calls;   ///< At the stage, not yet answered.
  std::vector<caf::actor> callers; ///< The saga of each call.
  std::vector<std::string> called; ///< Every call's correlation ID, in order.
  std::map<std::string, start_result> starts;
  std::map<std::string, std::string> ended; ///< Told to the watcher.
  std::optional<runtime::run_summary> summary;
  std::vector<runtime::signal_result> signals; ///< Answers to signals, in order.
};

/// The stage of step a: it holds every call until answered.
using probe_stage = step_target::extend<caf::reacts_to<watch_atom>>;

probe_stage::behavior_type stage_probe(probe_stage::pointer self, std::shared_ptr<seen> s) {
  return {
    [=](execute_atom, step_call& c) -> caf::result<step_result> {
      s->called.push_back(c.cid);
      s->calls.push_back(std::move(c));
      s->callers.push_back(caf::actor_cast<caf::actor>(self->current_sender()));
      return caf::delegated<step_result>{}; // answered by the test
    },
    [=](watch_atom) {},
  };
}

/// A client: submits (watching the saga's end), closes, records answers.
caf::behavior client(caf::event_based_actor* self, actors::coordinator_actor coordinator,
                     std::shared_ptr<seen> s) {
  return {
    [=](start_atom, config::saga_request& req) {
      auto cid = req.correlation_id;
      self->request(coordinator, caf::infinite, start_atom::value, std::move(req),
                    caf::actor_cast<caf::actor>(self))
        .then([=](std::uint8_t r) { s->starts[cid] = static_cast<start_result>(r); });
    },
    [=](done_atom, const std::string& cid, const std::string& status) { s->ended[cid] = status; },
    [=](close_atom) {
      self->request(coordinator, caf::infinite, close_atom::value)
        .then([=](runtime::run_summary& summary) { s->summary = std::move(summary); });
    },
    [=](stats_atom) {
      self->request(coordinator, caf::infinite, stats_atom::value)
        .then([=](runtime::run_summary& summary) { s->summary = std::move(summary); });
    },
    [=](signal_atom, std::string& cid, std::string& name, std::string& id) {
      self->request(coordinator, caf::infinite, signal_atom::value, std::move(cid), std::move(name),
                    std::string{}, std::move(id))
        .then([=](std::uint8_t r, const std::string&) {
          s->signals.push_back(static_cast<runtime::signal_result>(r));
        });
    },
    [=](cancel_atom, const std::string& cid) {
      self->request(coordinator, caf::infinite, cancel_atom::value, cid)
        .then([=](std::uint8_t, const std::string&) {});
    },
  };
}

/// The log first: it must outlive the actor system that writes to it.
struct log_in_temp_dir {
  test::temp_dir dir;
  std::unique_ptr<storage::event_log> log;
};

struct coordinator_world : log_in_temp_dir, test::deterministic_system {
  config::workflow wf;
  std::shared_ptr<seen> got = std::make_shared<seen>();
  runtime::definition_catalog definitions;
  actors::log_writer writer;
  probe_stage stage;
  actors::coordinator_actor coordinator;
  caf::actor probe;

  /// `before` writes to the log what an earlier run left there.
  explicit coordinator_world(std::uint32_t max_in_flight,
                             const std::function<void(storage::event_log&, const config::workflow&)>&
                               before = nullptr,
                             const std::string& steps = one_step)
    : wf(one_step_saga(max_in_flight, dir.path(), steps)), definitions(wf) {
    // The system is up already; the actors that use the log come below.
    std::string err;
    log = storage::event_log::open(storage::log_options::writer(dir.path(), config::durability::sync),
                                   err);
    BOOST_REQUIRE_MESSAGE(log, err);
    if (before)
      before(*log, wf);
    writer = actors::spawn_event_log_writer(*sys, *log, 16, actors::placement::scheduler);
    stage = sys->spawn(stage_probe, got);
    actors::coordinator_setup setup;
    setup.workflow = &wf;
    setup.definitions = &definitions;
    runtime::resumable_sagas found;
    BOOST_REQUIRE(runtime::find_resumable(*log, definitions, found));
    setup.unfinished = std::move(found.unfinished);
    setup.parked = found.parked;
    setup.log = log.get();
    setup.writer = writer;
    setup.stages[wf.sagas.at("s").id] =
      std::vector<step_target>(wf.sagas.at("s").steps.size(), stage);
    setup.pools = {stage};
    coordinator = actors::spawn_coordinator(*sys, std::move(setup), actors::placement::scheduler);
    probe = sys->spawn(client, coordinator, got);
    caf::anon_send(coordinator, run_atom::value);
    sched->run();
  }

  ~coordinator_world() { stop(writer, stage, coordinator, probe); }

  void submit(const std::string& cid) {
    config::saga_request req;
    req.saga = "s";
    req.correlation_id = cid;
    req.input = "{}";
    caf::anon_send(probe, start_atom::value, std::move(req));
    sched->run();
  }

  /// Answers the oldest call at the stage with success.
  void answer_oldest() {
    BOOST_REQUIRE(!got->calls.empty());
    auto call = std::move(got->calls.front());
    auto saga = std::move(got->callers.front());
    got->calls.erase(got->calls.begin());
    got->callers.erase(got->callers.begin());
    caf::anon_send(saga, step_result::answer(call, runtime::outcome::success("{}")));
    sched->run();
  }

  void close() {
    caf::anon_send(probe, close_atom::value);
    sched->run();
  }

  runtime::signal_result signal(const std::string& cid, const std::string& name,
                                const std::string& id = "") {
    auto before = got->signals.size();
    caf::anon_send(probe, signal_atom::value, cid, name, id);
    sched->run();
    BOOST_REQUIRE(got->signals.size() == before + 1);
    return got->signals.back();
  }

  runtime::run_summary stats() {
    caf::anon_send(probe, stats_atom::value);
    sched->run();
    BOOST_REQUIRE(got->summary);
    return *got->summary;
  }

  storage::saga_row row(const std::string& cid) {
    storage::status st = storage::status::ok();
    auto r = log->find_saga(cid, st);
    BOOST_REQUIRE(r);
    return *r;
  }

  std::vector<std::string> history(const std::string& cid) {
    std::vector<std::string> types;
    log->read_events(cid, 1, UINT64_MAX, [&](const storage::event& e) {
      types.emplace_back(storage::to_string(e.type));
      return true;
    });
    return types;
  }
};

/// Writes the first events of saga `cid` as a crashed run would have left them.
void crashed(storage::event_log& log, const config::workflow& wf, const std::string& cid) {
  runtime::saga_machine m{wf.sagas.at("s"), cid};
  runtime::transition t;
  m.start("{}", 1000, t);
  auto req = runtime::make_append(m, t);
  BOOST_REQUIRE(log.write({&req}).is_ok());
}

} // namespace

BOOST_AUTO_TEST_SUITE(coordinator)

BOOST_AUTO_TEST_CASE(a_start_is_answered_once_durable_and_runs_when_there_is_room) {
  coordinator_world w{1};
  w.submit("s-1");
  w.submit("s-2");
  // Both durable and answered; only one alive.
  BOOST_TEST((w.got->starts.at("s-1") == start_result::started));
  BOOST_TEST((w.got->starts.at("s-2") == start_result::started));
  BOOST_TEST(w.history("s-2") == (std::vector<std::string>{"saga_started", "step_started"}));
  BOOST_TEST(w.got->called == (std::vector<std::string>{"s-1"}));
  w.answer_oldest();
  BOOST_TEST(w.got->ended.at("s-1") == "completed");
  BOOST_TEST(w.got->called == (std::vector<std::string>{"s-1", "s-2"}));
  w.answer_oldest();
  w.close();
  BOOST_REQUIRE(w.got->summary);
  BOOST_TEST(w.got->summary->started == 2u);
  BOOST_TEST(w.got->summary->completed == 2u);
  BOOST_TEST(w.got->summary->peak_in_flight == 1u);
  BOOST_TEST(w.got->summary->events == 8u); // 4 a saga, counted by the writer
  BOOST_TEST(w.history("s-1").back() == "saga_completed");
}

BOOST_AUTO_TEST_CASE(a_duplicate_or_malformed_start_is_refused_and_changes_nothing) {
  coordinator_world w{4};
  w.submit("d-1");
  w.submit("d-1"); // alive
  BOOST_TEST((w.got->starts.at("d-1") == start_result::duplicate));
  w.answer_oldest();
  w.got->starts.clear();
  w.submit("d-1"); // ended, in the log
  BOOST_TEST((w.got->starts.at("d-1") == start_result::duplicate));
  w.submit("bad id");
  BOOST_TEST((w.got->starts.at("bad id") == start_result::bad_id));
  BOOST_TEST(w.history("d-1").size() == 4u);
  BOOST_TEST(w.got->ended.size() == 1u); // the refused starts' watchers hear nothing
  w.close();
  BOOST_REQUIRE(w.got->summary);
  BOOST_TEST(w.got->summary->duplicates == 2u);
  BOOST_TEST(w.got->summary->started == 1u);
}

BOOST_AUTO_TEST_CASE(unfinished_sagas_in_the_log_run_before_new_ones) {
  coordinator_world w{1, [](storage::event_log& log, const config::workflow& wf) {
                        crashed(log, wf, "old-1");
                        crashed(log, wf, "old-2");
                      }};
  w.submit("new-1");
  BOOST_TEST((w.got->starts.at("new-1") == start_result::started));
  BOOST_REQUIRE_EQUAL(w.got->called.size(), 1u);
  BOOST_TEST(w.got->called[0].rfind("old-", 0) == 0u);
  w.answer_oldest();
  BOOST_REQUIRE_EQUAL(w.got->called.size(), 2u);
  BOOST_TEST(w.got->called[1].rfind("old-", 0) == 0u);
  w.answer_oldest();
  BOOST_TEST(w.got->called.back() == "new-1");
  w.answer_oldest();
  w.close();
  BOOST_REQUIRE(w.got->summary);
  BOOST_TEST(w.got->summary->resumed == 2u);
  BOOST_TEST(w.got->summary->started == 1u);
  BOOST_TEST(w.got->summary->completed == 3u);
}

BOOST_AUTO_TEST_CASE(a_pressing_stage_holds_new_sagas_until_it_drains) {
  coordinator_world w{8};
  caf::anon_send(w.coordinator, pressure_atom::value, std::string{"s/a"}, true);
  w.sched->run();
  w.submit("p-1");
  BOOST_TEST((w.got->starts.at("p-1") == start_result::started)); // durable, waiting
  BOOST_TEST(w.got->called.empty());
  caf::anon_send(w.coordinator, pressure_atom::value, std::string{"s/a"}, false);
  w.sched->run();
  BOOST_TEST(w.got->called == (std::vector<std::string>{"p-1"}));
}

BOOST_AUTO_TEST_CASE(a_closed_coordinator_refuses_starts_and_answers_once_all_have_ended) {
  coordinator_world w{4};
  w.submit("c-1");
  w.close();
  BOOST_TEST(!w.got->summary); // c-1 is still running
  w.submit("c-2");
  BOOST_TEST((w.got->starts.at("c-2") == start_result::closed));
  w.answer_oldest();
  BOOST_REQUIRE(w.got->summary);
  BOOST_TEST(w.got->summary->completed == 1u);
  BOOST_TEST(w.got->summary->exit_status == 0);
}

/// a, then a wait for `paid` (no time limit: it parks at once), then c.
constexpr const char* pay_then_ship = R"([
    {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
    {"name": "paid", "action": {"kind": "wait", "signal": "paid"}},
    {"name": "c", "action": {"kind": "simulate"}}])";

BOOST_AUTO_TEST_CASE(a_waiting_saga_parks_and_a_signal_brings_it_back_from_its_events) {
  coordinator_world w{1, nullptr, pay_then_ship};
  w.submit("p-1");
  w.answer_oldest(); // a succeeds: paid waits, and the saga parks
  BOOST_TEST(w.row("p-1").parked);
  auto counts = w.stats();
  BOOST_TEST(counts.parked == 1u);
  w.submit("p-2"); // max_in_flight 1: the parked saga holds no room
  BOOST_TEST(w.got->called == (std::vector<std::string>{"p-1", "p-2"}));
  w.answer_oldest();
  BOOST_TEST(w.stats().parked == 2u);
  BOOST_TEST((w.signal("p-1", "paid", "hook-1") == runtime::signal_result::stored));
  BOOST_TEST(!w.row("p-1").parked); // its next write took it out of the index
  BOOST_TEST(w.got->called.back() == "p-1"); // c runs
  w.answer_oldest();
  BOOST_TEST(w.got->ended.at("p-1") == "completed");
  // The same signal_id for p-1 after its end, and one for p-2 twice: p-2
  // stays parked, its wait consuming one signal.
  BOOST_TEST((w.signal("p-1", "paid", "hook-1") == runtime::signal_result::duplicate));
  BOOST_TEST((w.signal("p-2", "shipped", "x-1") == runtime::signal_result::stored));
  BOOST_TEST(w.row("p-2").parked); // a signal of another name: it parks again
  BOOST_TEST((w.signal("p-2", "shipped", "x-1") == runtime::signal_result::duplicate));
  BOOST_TEST(w.stats().parked == 1u); // the duplicate brought it back, and it went again
  BOOST_TEST((w.signal("nope", "paid") == runtime::signal_result::unknown));
  auto h = w.history("p-1");
  BOOST_TEST(std::count(h.begin(), h.end(), "signal_received") == 1);
  BOOST_TEST(h.back() == "saga_completed");
}

BOOST_AUTO_TEST_CASE(a_cancel_brings_a_parked_saga_back_and_it_compensates_at_once) {
  coordinator_world w{4, nullptr, pay_then_ship};
  w.submit("c-1");
  w.answer_oldest();
  BOOST_REQUIRE(w.row("c-1").parked);
  caf::anon_send(w.probe, cancel_atom::value, std::string{"c-1"});
  w.sched->run();
  BOOST_TEST(w.got->called.back() == "c-1"); // a's compensation
  BOOST_TEST(w.got->calls.back().compensate);
  w.answer_oldest();
  BOOST_TEST(w.got->ended.at("c-1") == "cancelled");
  BOOST_TEST(w.stats().parked == 0u);
}

BOOST_AUTO_TEST_CASE(a_cancel_that_meets_a_saga_as_it_parks_still_cancels_it) {
  // The cancel reaches the saga after the write that parks it is durable,
  // before the coordinator has heard that it parked: the saga quits with
  // the cancel unread, and the coordinator must bring it back for it.
  coordinator_world w{4, nullptr, pay_then_ship};
  w.submit("r-1");
  auto call = std::move(w.got->calls.front());
  auto saga = std::move(w.got->callers.front());
  w.got->calls.clear();
  w.got->callers.clear();
  caf::anon_send(saga, step_result::answer(call, runtime::outcome::success("{}")));
  auto* alive = dynamic_cast<caf::scheduled_actor*>(caf::actor_cast<caf::abstract_actor*>(saga));
  BOOST_REQUIRE(alive);
  // Its parking write is in the log, and it is scheduled again: only the
  // syncer's acknowledgement wakes it then. (Its mailbox is not peeked at:
  // that unblocks a blocked mailbox, and UBSan finds CAF 0.17's peek
  // casting its queue's sentinel.)
  auto& jobs = w.sched->jobs;
  auto acknowledged = [&] {
    return std::find(jobs.begin(), jobs.end(), static_cast<caf::resumable*>(alive)) != jobs.end()
           && w.row("r-1").parked;
  };
  while (!acknowledged()) // a succeeds; the write that parks it is acknowledged
    BOOST_REQUIRE(w.sched->try_run_once());
  caf::anon_send(w.probe, cancel_atom::value, std::string{"r-1"});
  BOOST_REQUIRE(w.sched->prioritize(w.probe));
  w.sched->run_once(); // the client asks the coordinator
  BOOST_REQUIRE(w.sched->prioritize(w.coordinator));
  w.sched->run_once(); // the coordinator asks the saga, which it thinks alive
  w.sched->run();
  BOOST_TEST(w.got->called.back() == "r-1"); // a's compensation
  BOOST_REQUIRE(!w.got->calls.empty());
  BOOST_TEST(w.got->calls.back().compensate);
  w.answer_oldest();
  BOOST_TEST(w.got->ended.at("r-1") == "cancelled");
}

BOOST_AUTO_TEST_CASE(a_restart_leaves_parked_sagas_in_the_log_and_a_signal_still_finds_them) {
  // An earlier run parked q-1: its row and events as that run wrote them.
  auto before = [](storage::event_log& log, const config::workflow& wf) {
    runtime::saga_machine m{wf.sagas.at("s"), "q-1"};
    runtime::transition t;
    m.start("{}", 1000, t);
    auto first = runtime::make_append(m, t);
    BOOST_REQUIRE(log.write({&first}).is_ok());
    runtime::transition waits;
    m.step_finished(0, 1, runtime::outcome::success("{}"), 2000, waits);
    auto park = runtime::make_append(m, waits);
    runtime::record_parking(m, std::nullopt, true, 2000, park);
    BOOST_REQUIRE(log.write({&park}).is_ok());
  };
  coordinator_world w{4, before, pay_then_ship};
  BOOST_TEST(w.got->called.empty()); // not resumed
  BOOST_TEST(w.stats().parked == 1u);
  BOOST_TEST((w.signal("q-1", "paid") == runtime::signal_result::stored));
  BOOST_TEST(w.got->called == (std::vector<std::string>{"q-1"})); // c
  w.answer_oldest();
  BOOST_TEST(w.history("q-1").back() == "saga_completed");
}

// -- the watcher of a start_async() --------------------------------------------

const char* result_name(runtime::start_result r) {
  return r == runtime::start_result::started     ? "started"
         : r == runtime::start_result::duplicate ? "duplicate"
                                                 : "other";
}

BOOST_AUTO_TEST_CASE(an_end_watcher_is_told_its_start_then_its_end_and_goes) {
  test::deterministic_system d;
  auto before = d.sys->registry().running();
  std::vector<std::string> told;
  auto watcher = actors::spawn_end_watcher(
    *d.sys, "w-1",
    [&](const std::string& cid, runtime::start_result r, const std::string& status) {
      told.push_back(cid + " " + result_name(r) + " " + status);
    },
    [&](const std::string& cid) { told.push_back(cid + " started"); });
  BOOST_TEST(d.sys->registry().running() == before + 1);
  // As the coordinator tells it: the start's answer, then the saga's end.
  caf::anon_send(watcher, static_cast<std::uint8_t>(runtime::start_result::started));
  caf::anon_send(watcher, done_atom::value, std::string{"w-1"}, std::string{"completed"});
  d.run();
  BOOST_TEST(told == (std::vector<std::string>{"w-1 started", "w-1 started completed"}));
  BOOST_TEST(d.sys->registry().running() == before); // it went, though a handle is held
}

BOOST_AUTO_TEST_CASE(an_end_watcher_of_a_refused_start_is_told_why_and_goes) {
  test::deterministic_system d;
  auto before = d.sys->registry().running();
  std::vector<std::string> told;
  auto watcher = actors::spawn_end_watcher(
    *d.sys, "w-2",
    [&](const std::string& cid, runtime::start_result r, const std::string& status) {
      told.push_back(cid + " " + result_name(r) + " [" + status + "]");
    },
    [&](const std::string& cid) { told.push_back(cid + " started"); });
  caf::anon_send(watcher, static_cast<std::uint8_t>(runtime::start_result::duplicate));
  d.run();
  BOOST_TEST(told == (std::vector<std::string>{"w-2 duplicate []"}));
  BOOST_TEST(d.sys->registry().running() == before);
}

BOOST_AUTO_TEST_CASE(an_end_watcher_told_nothing_goes_with_the_last_handle_to_it) {
  // What happens when the engine stops with the saga still running: the
  // coordinator's state, which held the watcher, goes, and so does the
  // watcher, without a word and without an actor left for the system's
  // shutdown to wait for.
  test::deterministic_system d;
  auto before = d.sys->registry().running();
  int told = 0;
  {
    auto watcher = actors::spawn_end_watcher(
      *d.sys, "w-3", [&](const std::string&, runtime::start_result, const std::string&) { ++told; },
      [&](const std::string&) { ++told; });
    d.run();
    BOOST_TEST(d.sys->registry().running() == before + 1);
  }
  d.run();
  BOOST_TEST(d.sys->registry().running() == before);
  BOOST_TEST(told == 0);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace actors_coordinator_test
