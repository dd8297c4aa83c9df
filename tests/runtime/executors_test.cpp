// exec and http steps against real programs and a real HTTP server on
// 127.0.0.1, and C++ handlers.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "config/json_tree.hpp"
#include "runtime/executors.hpp"
#include "tests/temp_dir.hpp"

namespace runtime_executors_test {

using namespace nexus;
using namespace nexus::runtime;
using config::error_kind;

namespace {

const std::string step_sh = std::string{NEXUS_SOURCE_DIR} + "/tests/programs/step.sh";

step_context context(std::int64_t timeout_ms = 10000) {
  return {"ord-7", "order", "reserve", 2, false, "ord-7/reserve", R"({"input":{"n":1},"steps":{}})",
          timeout_ms};
}

config::exec_action program(std::vector<std::string> args) {
  config::exec_action a;
  a.argv = {step_sh};
  a.argv.insert(a.argv.end(), args.begin(), args.end());
  return a;
}

/// A member of a JSON object, as text ("" if absent or not a scalar).
std::string member(const std::string& json, const std::string& key) {
  config::json_parse_error err;
  auto tree = config::parse_json_tree(json, err);
  BOOST_REQUIRE_MESSAGE(tree, "not JSON: " << json);
  auto m = tree->find(key);
  if (m == nullptr)
    return "";
  auto& v = m->value;
  if (v.type == config::json_node::kind::string)
    return v.text;
  if (v.type == config::json_node::kind::unsigned_integer)
    return std::to_string(v.unsigned_integer);
  if (v.type == config::json_node::kind::integer)
    return std::to_string(v.integer);
  return "<" + std::string{config::describe(v.type)} + ">";
}

/// Whether a process is gone (or a zombie that nobody has reaped yet).
bool process_gone(int pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string pid_s, comm, state;
  if (!(stat >> pid_s >> comm >> state))
    return true;
  return state == "Z" || state == "X";
}

/// A SIGKILL takes effect asynchronously: waits (at most 10 s) for the
/// process, which is not our child, to end, through a pidfd that becomes
/// readable when it does.
bool process_ends(int pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0)
    return errno == ESRCH || process_gone(pid);
  pollfd p{fd, POLLIN, 0};
  int ready = ::poll(&p, 1, 10000);
  ::close(fd);
  return ready == 1 || process_gone(pid);
}

/// The test HTTP server, started for one test case and killed after it.
struct http_server {
  FILE* pipe = nullptr;
  int port = 0;
  int pid = 0;

  http_server() {
    auto cmd = "exec python3 " + std::string{NEXUS_SOURCE_DIR} + "/tests/programs/http_server.py";
    pipe = ::popen(cmd.c_str(), "r");
    BOOST_REQUIRE(pipe != nullptr);
    // Blocks until the server has bound its port and said which.
    BOOST_REQUIRE(std::fscanf(pipe, "%d %d", &port, &pid) == 2);
  }
  ~http_server() {
    ::kill(pid, SIGTERM);
    ::pclose(pipe);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

config::action_spec as_action(const config::exec_action& x) {
  config::action_spec a;
  a.kind = config::action_kind::exec;
  a.exec = x;
  return a;
}

config::action_spec as_action(const config::http_action& h) {
  config::action_spec a;
  a.kind = config::action_kind::http;
  a.http = h;
  return a;
}

config::http_action post(const std::string& url) {
  config::http_action a;
  a.url = url;
  return a;
}

} // namespace

BOOST_AUTO_TEST_SUITE(step_executors)

BOOST_AUTO_TEST_CASE(an_exec_step_gets_its_json_on_stdin_and_the_nexus_variables) {
  auto a = program({"ok"});
  a.env["EXTRA"] = "from the workflow";
  auto o = run_blocking(as_action(a), context(), nullptr);
  BOOST_REQUIRE_MESSAGE(o.ok, o.message);
  BOOST_TEST(member(o.output, "cid") == "ord-7");
  BOOST_TEST(member(o.output, "step") == "reserve");
  BOOST_TEST(member(o.output, "attempt") == "2");
  BOOST_TEST(member(o.output, "key") == "ord-7/reserve");
  BOOST_TEST(member(o.output, "extra") == "from the workflow");
  BOOST_TEST(o.output.find(R"("stdin":{"input":{"n":1},"steps":{}})") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(outputs_are_stored_minified_on_one_line) {
  std::string text = "{\n  \"a\": [1, 2],\n  \"b\": \"x y\"\n}\n", error;
  BOOST_REQUIRE(output_json(text, error));
  BOOST_TEST(text == R"({"a":[1,2],"b":"x y"})");
  text = " \n";
  BOOST_REQUIRE(output_json(text, error));
  BOOST_TEST(text == "null");
  text = "{\"a\": 1} trailing";
  BOOST_TEST(!output_json(text, error));
}

BOOST_AUTO_TEST_CASE(exit_75_is_transient_and_other_codes_are_permanent_with_stderr) {
  auto o = run_exec(program({"exit", "75", "database busy"}), context());
  BOOST_TEST(!o.ok);
  BOOST_TEST((o.kind == error_kind::transient));
  BOOST_TEST(o.message.find("database busy") != std::string::npos);
  o = run_exec(program({"exit", "3", "no such order"}), context());
  BOOST_TEST((o.kind == error_kind::permanent));
  BOOST_TEST(o.message.find("exited 3: no such order") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_program_fails_permanently_naming_it) {
  config::exec_action a;
  a.argv = {"/nonexistent/nexus-step"};
  auto o = run_exec(a, context());
  BOOST_TEST((o.kind == error_kind::permanent));
  BOOST_TEST(o.message.find("cannot run /nonexistent/nexus-step") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_timeout_kills_the_whole_process_group) {
  nexus::test::temp_dir dir;
  auto pidfile = dir.path() + "/child.pid";
  auto o = run_exec(program({"tree", pidfile}), context(300));
  BOOST_TEST((o.kind == error_kind::timeout));
  BOOST_TEST(o.message.find("process group was killed") != std::string::npos);
  int child = 0;
  std::ifstream{pidfile} >> child;
  BOOST_REQUIRE(child > 0);
  BOOST_TEST(process_ends(child)); // the background sleep 30 went with it
}

BOOST_AUTO_TEST_CASE(a_program_that_closes_its_pipes_is_still_killed_at_its_timeout) {
  nexus::test::temp_dir dir;
  auto pidfile = dir.path() + "/daemon.pid";
  auto o = run_exec(program({"daemon", pidfile}), context(300));
  BOOST_TEST(!o.ok);
  BOOST_TEST((o.kind == error_kind::timeout));
  BOOST_TEST(o.message.find("did not finish within 300 ms") != std::string::npos);
  int pid = 0;
  std::ifstream{pidfile} >> pid;
  BOOST_REQUIRE(pid > 0);
  BOOST_TEST(process_ends(pid)); // its sleep 20 was killed, not waited for
}

BOOST_AUTO_TEST_CASE(a_program_that_exited_0_has_succeeded_whatever_its_children_hold) {
  nexus::test::temp_dir dir;
  auto pidfile = dir.path() + "/leftover.pid";
  auto o = run_exec(program({"leftover", pidfile}), context(5000));
  BOOST_REQUIRE_MESSAGE(o.ok, o.message);
  BOOST_TEST(o.output == "{\"ok\":1}\n");
  int child = 0;
  std::ifstream{pidfile} >> child;
  BOOST_REQUIRE(child > 0);
  BOOST_TEST(process_ends(child)); // the leftover went with the step
}

BOOST_AUTO_TEST_CASE(output_past_the_bound_or_not_json_fails_clearly) {
  auto a = program({"flood", "5000"});
  a.max_output_bytes = 4096;
  auto o = run_blocking(as_action(a), context(), nullptr);
  BOOST_TEST((o.kind == error_kind::permanent));
  BOOST_TEST(o.message.find("more than 4096 bytes") != std::string::npos);
  o = run_blocking(as_action(program({"text"})), context(), nullptr);
  BOOST_TEST(!o.ok);
  BOOST_TEST(o.message.find("output is not JSON") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_http_step_posts_its_json_with_the_idempotency_key) {
  http_server server;
  auto a = post(server.url("/echo"));
  a.headers["X-Custom"] = "yes";
  auto o = run_blocking(as_action(a), context(), nullptr);
  BOOST_REQUIRE_MESSAGE(o.ok, o.message);
  BOOST_TEST(member(o.output, "idempotency_key") == "ord-7/reserve");
  BOOST_TEST(member(o.output, "correlation_id") == "ord-7");
  BOOST_TEST(member(o.output, "custom") == "yes");
  BOOST_TEST(member(o.output, "content_type") == "application/json");
  BOOST_TEST(o.output.find(R"("body":{"input":{"n":1},"steps":{}})") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(http_status_codes_map_to_error_kinds) {
  http_server server;
  for (auto [code, kind] : std::vector<std::pair<int, error_kind>>{
         {408, error_kind::transient}, {429, error_kind::transient}, {500, error_kind::transient},
         {503, error_kind::transient}, {400, error_kind::permanent}, {404, error_kind::permanent},
         {409, error_kind::permanent}}) {
    auto o = run_http(post(server.url("/status/" + std::to_string(code))), context());
    BOOST_TEST(!o.ok);
    BOOST_TEST((o.kind == kind), "HTTP " << code);
    BOOST_TEST(o.message.find("HTTP " + std::to_string(code)) != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(http_bodies_that_are_text_too_big_or_late_are_handled) {
  http_server server;
  auto o = run_http(post(server.url("/text")), context());
  BOOST_TEST(o.ok);
  BOOST_TEST(o.output == R"("plain words")");
  auto big = post(server.url("/big"));
  big.max_output_bytes = 1 << 20;
  o = run_http(big, context());
  BOOST_TEST((o.kind == error_kind::permanent));
  BOOST_TEST(o.message.find("response body over") != std::string::npos);
  o = run_http(post(server.url("/slow")), context(300));
  BOOST_TEST((o.kind == error_kind::timeout));
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_transient) {
  // Port 1 on loopback: nothing listens there unprivileged.
  auto o = run_http(post("http://127.0.0.1:1/charge"), context());
  BOOST_TEST((o.kind == error_kind::transient));
  BOOST_TEST(o.message.find("127.0.0.1:1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(handlers_are_called_by_name_and_their_throws_fail_the_attempt) {
  handler_registry handlers;
  handlers.add("reserve", [](const step_context& c) {
    return outcome::success(R"({"for":")" + c.idempotency_key + R"("})");
  });
  handlers.add("broken", [](const step_context&) -> outcome {
    throw std::runtime_error("inventory service unreachable");
  });
  handlers.add("sloppy", [](const step_context&) { return outcome::success("{not json"); });
  config::action_spec a;
  a.kind = config::action_kind::handler;
  a.handler = "reserve";
  auto o = run_blocking(a, context(), &handlers);
  BOOST_TEST(o.output == R"({"for":"ord-7/reserve"})");
  a.handler = "broken";
  o = run_blocking(a, context(), &handlers);
  BOOST_TEST((o.kind == error_kind::permanent));
  BOOST_TEST(o.message == "handler broken threw: inventory service unreachable");
  a.handler = "sloppy";
  BOOST_TEST(run_blocking(a, context(), &handlers).message.find("output is not JSON")
             != std::string::npos);
  a.handler = "absent";
  BOOST_TEST(run_blocking(a, context(), &handlers).message.find("no C++ handler") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_executors_test
