#include <boost/test/unit_test.hpp>

#include "config/definition.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/definition_catalog.hpp"
#include "runtime/saga_machine.hpp"

namespace config_definition_test {

using namespace nexus;

namespace {

config::workflow load(const std::string& text) {
  auto r = config::parse_workflow(text, "wf.json");
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.errors.empty() ? std::string{} : r.errors.front().to_string()));
  return *r.value;
}

const char* order = R"({"defaults": {"timeout_ms": 5000, "retry": {"max_attempts": 4}},
  "sagas": {"order": {"deadline_ms": 60000, "steps": [
    {"name": "reserve", "resource": "stock", "concurrency": 8,
     "action": {"kind": "simulate", "latency_ms": 2, "fail_rate": 0.1234567891},
     "compensate": {"kind": "exec", "argv": ["undo", "--all"], "retry": {"max_attempts": 9}}},
    {"parallel": [
      {"name": "charge", "action": {"kind": "http", "url": "http://127.0.0.1:1/charge",
                                    "headers": {"X-A": "\"quoted\""}}},
      {"name": "notify", "action": {"kind": "handler", "name": "notify"}}]}]}}})";

} // namespace

BOOST_AUTO_TEST_SUITE(saga_definitions)

// Persisted: the hash is the key a definition is stored under, and what
// saga_started names. If this fails, every stored definition looks new.
BOOST_AUTO_TEST_CASE(the_definition_text_and_hash_are_the_persisted_layout) {
  auto wf = load(R"({"sagas": {"s": {"steps": [{"name": "a", "action": {"kind": "simulate"}}]}}})");
  auto& s = wf.sagas.at("s");
  BOOST_TEST(config::definition_json(s)
             == R"({"deadline_ms":0,"steps":[{"name":"a","timeout_ms":30000,)"
                R"("action":{"kind":"simulate","latency_ms":0,"cpu_ms":0,"fail_rate":0,)"
                R"("fail_first":0,"fail_kind":"transient","seed":0},)"
                R"("retry":{"max_attempts":3,"initial_interval_ms":100,"backoff":2,)"
                R"("max_interval_ms":10000,"jitter":0.20000000000000001,"non_retryable":["permanent"]}}]})");
  BOOST_TEST(s.hash == config::sha256_hex("s:" + config::definition_json(s)));
  BOOST_TEST(s.hash.size() == 64u);
  BOOST_TEST(s.id == config::definition_id(s.hash));
  BOOST_TEST(config::sha256_hex("abc")
             == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(a_stored_definition_reads_back_as_the_same_saga) {
  auto wf = load(order);
  auto& s = wf.sagas.at("order");
  std::string error;
  auto back = config::parse_definition(config::definition_json(s), "order", s.hash, error);
  BOOST_REQUIRE_MESSAGE(back, error);
  BOOST_TEST(back->hash == s.hash);
  BOOST_TEST(back->deadline_ms == 60000u);
  BOOST_TEST(back->groups.size() == 2u);
  BOOST_TEST(back->steps[0].action.simulate.fail_rate == 0.1234567891); // exact
  BOOST_TEST(back->steps[0].compensate_retry.max_attempts == 9u);
  BOOST_TEST(back->steps[0].retry.max_attempts == 4u);
  BOOST_TEST(back->steps[0].timeout_ms == 5000u);
  BOOST_TEST(back->steps[1].action.http.headers.at("X-A") == "\"quoted\"");
  BOOST_TEST(back->steps[2].action.handler == "notify");
}

BOOST_AUTO_TEST_CASE(what_changes_behaviour_changes_the_hash_and_capacity_does_not) {
  auto base = load(order).sagas.at("order").hash;
  std::string text = order;
  auto with = [&](const std::string& from, const std::string& to,
                  const std::string& name = "order") {
    auto t = text;
    t.replace(t.find(from), from.size(), to);
    return load(t).sagas.at(name).hash;
  };
  BOOST_TEST(with("\"concurrency\": 8", "\"concurrency\": 2") == base);
  BOOST_TEST(with("\"--all\"", "\"--some\"") != base);
  BOOST_TEST(with("\"deadline_ms\": 60000", "\"deadline_ms\": 1000") != base);
  BOOST_TEST(with("\"resource\": \"stock\"", "\"resource\": \"store\"") != base);
  BOOST_TEST(with("\"timeout_ms\": 5000", "\"timeout_ms\": 5001") != base);
  // The same steps under another name are another definition.
  BOOST_TEST(with("\"order\":", "\"order2\":", "order2") != base);
}

BOOST_AUTO_TEST_CASE(a_definition_that_does_not_hash_to_its_key_is_refused) {
  auto wf = load(order);
  auto& s = wf.sagas.at("order");
  std::string error;
  BOOST_TEST(!config::parse_definition(config::definition_json(s), "order",
                                       std::string(64, '0'), error));
  BOOST_TEST(error.find("does not hash to its key") != std::string::npos);
  BOOST_TEST(!config::parse_definition("{\"steps\": 1}", "order", s.hash, error));
}

// Memory: 100,000 sagas on three definitions hold three copies.
BOOST_AUTO_TEST_CASE(a_catalog_holds_each_definition_once_and_machines_share_it) {
  auto wf = load(order);
  runtime::definition_catalog catalog{wf};
  auto* held = catalog.current("order");
  BOOST_REQUIRE(held);
  BOOST_TEST(catalog.add(wf.sagas.at("order")) == held);
  BOOST_TEST(catalog.find(held->hash) == held);
  BOOST_TEST(catalog.find(held->id) == held);
  BOOST_TEST(catalog.all().size() == 1u);
  std::vector<std::unique_ptr<runtime::saga_machine>> sagas;
  for (int i = 0; i < 1000; ++i)
    sagas.push_back(std::make_unique<runtime::saga_machine>(*held, "c" + std::to_string(i)));
  for (auto& m : sagas)
    BOOST_TEST(&m->spec() == held);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace config_definition_test
