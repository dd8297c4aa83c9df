#pragma once

// Shared by the saga machine test files: a workflow parsed from a steps
// array, and helpers to read transitions.

#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "config/workflow_loader.hpp"
#include "runtime/saga_machine.hpp"

namespace nexus::test {

/// Saga `s` of three steps a, b, c with compensations, unless `steps` is
/// given; `saga_keys` adds keys to the saga (`"deadline_ms": 1000`).
struct machine_fixture {
  config::workflow wf;
  std::int64_t now = 1000000;

  static constexpr const char* abc = R"([
      {"name": "a", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "b", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}},
      {"name": "c", "action": {"kind": "simulate"}, "compensate": {"kind": "simulate"}}])";

  explicit machine_fixture(const std::string& steps = abc, const std::string& saga_keys = "") {
    auto r = config::parse_workflow(
      R"({"defaults": {"retry": {"max_attempts": 3, "initial_interval_ms": 100, "backoff": 2,
                                 "max_interval_ms": 1000, "jitter": 0.2}},
          "sagas": {"s": {)" + (saga_keys.empty() ? "" : saga_keys + ", ") + R"("steps": )"
        + steps + "}}}",
      "test.json");
    for (auto& e : r.errors)
      BOOST_TEST_MESSAGE(e.to_string());
    BOOST_REQUIRE(r.ok());
    wf = std::move(*r.value);
  }

  const config::saga_spec& spec() const { return wf.sagas.at("s"); }

  std::uint32_t step(const std::string& name) const {
    return static_cast<std::uint32_t>(spec().find_step(name));
  }
};

using strings = std::vector<std::string>;

/// `type:step` of each event of `t`, in order.
inline strings types(const runtime::transition& t) {
  strings out;
  for (auto& e : t.events)
    out.push_back(std::string{storage::to_string(e.type)} + (e.step.empty() ? "" : ":" + e.step));
  return out;
}

inline runtime::outcome ok() {
  return runtime::outcome::success(R"({"r":1})");
}

inline runtime::outcome fails(config::error_kind k, std::string message = "boom") {
  return runtime::outcome::failure(k, std::move(message));
}

/// A fresh machine with every event of `t` replayed into it.
inline std::unique_ptr<runtime::saga_machine>
replayed(const machine_fixture& f, const std::string& cid, const runtime::transition& t) {
  auto m = std::make_unique<runtime::saga_machine>(f.spec(), cid);
  std::string err;
  for (auto& e : t.events)
    BOOST_REQUIRE_MESSAGE(m->replay(e, err), err);
  return m;
}

/// Replays every prefix of `t`'s events and checks that none leaves a saga
/// unfinished with nothing to do: each resumes to a command, or has ended.
inline void check_every_prefix_resumes(const machine_fixture& f, const std::string& cid,
                                       const runtime::transition& t) {
  for (std::size_t n = 1; n < t.events.size(); ++n) {
    runtime::transition prefix;
    prefix.events.assign(t.events.begin(), t.events.begin() + static_cast<long>(n));
    auto m = replayed(f, cid, prefix);
    runtime::transition next;
    m->resume(f.now, next);
    BOOST_TEST((m->finished() || !next.commands.empty()),
               cid << ": prefix of " << n << " events ends with "
                   << storage::to_string(prefix.events.back().type));
  }
}

} // namespace nexus::test
