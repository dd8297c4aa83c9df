#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"
#include "runtime/migration.hpp"
#include "runtime/saga_machine.hpp"

namespace runtime_migration_test {

using namespace nexus;
using namespace nexus::runtime;

namespace {

config::saga_spec saga(const std::string& steps) {
  auto r = config::parse_workflow(R"({"sagas": {"s": {"steps": [)" + steps + "]}}}", "wf.json");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? std::string{} : r.errors.front().to_string()));
  return r.value->sagas.at("s");
}

std::string step(const std::string& name, bool undo = true, const std::string& seed = "0") {
  return R"({"name": ")" + name + R"(", "action": {"kind": "simulate", "seed": )" + seed + "}"
         + (undo ? R"(, "compensate": {"kind": "simulate"})" : "") + "}";
}

outcome ok() { return outcome::success("{}"); }
outcome broken() { return outcome::failure(config::error_kind::permanent, "no"); }

/// A saga of `spec` with steps a and b done and c running.
saga_machine at_c(const config::saga_spec& spec) {
  saga_machine m{spec, "ord-7"};
  transition t;
  m.start("{}", 0, t);
  m.step_finished(0, 1, ok(), 0, t);
  m.step_finished(1, 1, ok(), 0, t);
  return m;
}

} // namespace

BOOST_AUTO_TEST_SUITE(saga_migration)

BOOST_AUTO_TEST_CASE(changes_ahead_of_a_saga_are_safe) {
  auto from = saga(step("a") + "," + step("b") + "," + step("c") + "," + step("d"));
  auto m = at_c(from);
  // d removed, e added after c, d changed: all ahead.
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b") + "," + step("c") + "," + step("e")),
                          "new.json")
             == "");
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b") + "," + step("c")), "new.json") == "");
  // A compensation of a finished step may change: fixing it is the point.
  BOOST_TEST(move_problem(m, saga(R"({"name": "a", "action": {"kind": "simulate"},
                                      "compensate": {"kind": "simulate", "seed": 9}},)"
                                  + step("b") + "," + step("c")),
                          "new.json")
             == "");
}

BOOST_AUTO_TEST_CASE(changes_behind_a_saga_are_named_with_the_step) {
  auto from = saga(step("a") + "," + step("b") + "," + step("c"));
  auto m = at_c(from);
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("c")), "new.json")
             == "ord-7: step b has started, new.json removes it");
  BOOST_TEST(move_problem(m, saga(step("b") + "," + step("a") + "," + step("c")), "new.json")
             == "ord-7: step a has started, new.json moves it");
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("x") + "," + step("b") + "," + step("c")),
                          "new.json")
             == "ord-7: step b has started, new.json moves it");
  BOOST_TEST(move_problem(m, saga(step("a", false) + "," + step("b") + "," + step("c")), "new.json")
             == "ord-7: step a would still be compensated, new.json removes its compensation");
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b") + "," + step("c", true, "5")),
                          "new.json")
             == "ord-7: step c has started, new.json changes it");
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b") + R"(, {"parallel": [)" + step("c")
                                  + "," + step("d") + "]}"),
                          "new.json")
             == "ord-7: step c has started, new.json adds step d to its parallel group");
}

BOOST_AUTO_TEST_CASE(a_passed_pivot_stays_a_pivot) {
  auto from = saga(step("a", false) + "," + step("b") + "," + step("c"));
  auto m = at_c(from);
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b") + "," + step("c")), "new.json")
             == "ord-7: step a is a pivot that has succeeded, new.json gives it a compensation");
}

BOOST_AUTO_TEST_CASE(a_running_compensation_keeps_its_definition) {
  auto from = saga(step("a") + "," + step("b"));
  saga_machine m{from, "ord-8"};
  transition t;
  m.start("{}", 0, t);
  m.step_finished(0, 1, ok(), 0, t);
  m.step_finished(1, 1, broken(), 0, t); // a's compensation starts
  BOOST_TEST(move_problem(m, saga(R"({"name": "a", "action": {"kind": "simulate"},
                                      "compensate": {"kind": "simulate", "seed": 3}},)"
                                  + step("b")),
                          "new.json")
             == "ord-8: the compensation of step a is running, new.json changes it");
  BOOST_TEST(move_problem(m, saga(step("a") + "," + step("b", true, "4")), "new.json") == "");
}

BOOST_AUTO_TEST_CASE(a_moved_saga_records_both_definitions_and_its_row_names_the_new_one) {
  auto to = saga(step("a") + "," + step("b") + "," + step("c") + "," + step("x"));
  saga_machine m{to, "ord-9"};
  transition t;
  m.start("{}", 0, t);
  auto next = m.last_seq() + 1;
  t = {};
  m.moved_from(std::string(64, 'f'), 5, t);
  BOOST_REQUIRE_EQUAL(t.events.size(), 1u);
  BOOST_TEST((t.events[0].type == storage::event_type::definition_changed));
  BOOST_TEST(t.events[0].seq == next);
  BOOST_TEST(t.events[0].definition == to.hash);
  BOOST_TEST(t.events[0].from_definition == std::string(64, 'f'));
  BOOST_TEST(m.row(5).definition == to.hash);
  BOOST_TEST(t.commands.empty());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_migration_test
