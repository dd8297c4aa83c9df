// A running saga's figures, folded from its events (its row is rewritten
// only when its status changes).
#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"
#include "runtime/saga_machine.hpp"
#include "runtime/saga_progress.hpp"
#include "runtime/saga_writes.hpp"
#include "tests/temp_dir.hpp"

namespace runtime_saga_progress_test {

using namespace nexus;

namespace {

storage::event event(std::uint64_t seq, storage::event_type type) {
  storage::event e;
  e.seq = seq;
  e.ts_us = 1000 + static_cast<std::int64_t>(seq);
  e.type = type;
  return e;
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_progress)

BOOST_AUTO_TEST_CASE(steps_done_count_successes_and_compensations_undo_them) {
  using t = storage::event_type;
  storage::saga_row row;
  for (auto [seq, type] : {std::pair{1, t::saga_started}, {2, t::step_started}, {3, t::step_succeeded},
                           {4, t::step_started}, {5, t::step_succeeded}, {6, t::step_started},
                           {7, t::step_failed}, {8, t::compensation_started},
                           {9, t::compensation_succeeded}})
    runtime::advance_progress(row, event(static_cast<std::uint64_t>(seq), type));
  BOOST_TEST(row.steps_done == 1u);
  BOOST_TEST(row.last_seq == 9u);
  BOOST_TEST(row.updated_us == 1009);
  runtime::advance_progress(row, event(10, t::compensation_succeeded));
  runtime::advance_progress(row, event(11, t::compensation_succeeded)); // never below none
  BOOST_TEST(row.steps_done == 0u);
}

BOOST_AUTO_TEST_CASE(a_running_saga_s_row_is_brought_up_to_date_from_the_log) {
  test::temp_dir dir;
  auto wf = config::parse_workflow(
    R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}},
                                  {"name": "b", "action": {"kind": "simulate"}}]}}})",
    "wf.json");
  BOOST_REQUIRE(wf.ok());
  std::string err;
  auto log = storage::event_log::open(storage::log_options::writer(dir.path(), config::durability::sync),
                                      err);
  BOOST_REQUIRE_MESSAGE(log, err);
  runtime::saga_machine m{wf.value->sagas.at("s"), "p-1"};
  auto commit = [&](const runtime::transition& t) {
    auto req = runtime::make_append(m, t);
    BOOST_REQUIRE(log->write({&req}).is_ok());
  };
  runtime::transition start, step;
  m.start("{}", 1000, start);
  commit(start);
  m.step_finished(0, 1, runtime::outcome::success("{}"), 2000, step);
  commit(step); // no row: the status did not change
  storage::status st = storage::status::ok();
  auto row = log->find_saga("p-1", st);
  BOOST_REQUIRE(row);
  BOOST_TEST(row->steps_done == 0u); // as of its start
  BOOST_REQUIRE(runtime::live_progress(*log, "p-1", *row).is_ok());
  BOOST_TEST(row->steps_done == 1u);
  BOOST_TEST(row->last_seq == 4u); // started, a started, a succeeded, b started
  BOOST_TEST(row->updated_us == 2000);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_saga_progress_test
