// The etcd client against a real etcd (Debian's etcd-server, which
// scripts/setup installs), started here on loopback ports of its own:
// leases granted, renewed and revoked; a leadership key created only by the
// first campaign, read back by the others with its holder, removed only by
// its own holder, and created again at a higher revision (the next epoch);
// a dead endpoint skipped for a live one. And base64, as the gateway wants it.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/etcd_client.hpp"
#include "tests/temp_dir.hpp"

namespace runtime_etcd_client_test {

using namespace nexus;
using runtime::etcd_client;

namespace {

/// A loopback port free now (the kernel's pick).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// etcd on 127.0.0.1, in a directory of its own, stopped at scope end.
struct etcd_server {
  test::temp_dir dir;
  std::string url;
  pid_t pid = -1;

  etcd_server() {
    auto client = "http://127.0.0.1:" + std::to_string(free_port());
    auto peer = "http://127.0.0.1:" + std::to_string(free_port());
    url = client;
    std::vector<std::string> args{"etcd",
                                  "--name", "t",
                                  "--data-dir", dir.file("data"),
                                  "--listen-client-urls", client,
                                  "--advertise-client-urls", client,
                                  "--listen-peer-urls", peer,
                                  "--initial-advertise-peer-urls", peer,
                                  "--initial-cluster", "t=" + peer};
    auto log = dir.file("etcd.log");
    pid = ::fork();
    if (pid == 0) {
      // Its log in its directory, not in the test's output.
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("etcd", argv.data());
      ::_exit(127);
    }
    BOOST_REQUIRE_MESSAGE(pid > 0, "cannot fork for etcd");
    // Ready once it answers a read: asked again until then, for 20 s at
    // most (each ask waits up to 200 ms for a connection).
    etcd_client c{{url}, std::chrono::milliseconds(200)};
    std::string error;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool up = false;
    while (!up && std::chrono::steady_clock::now() < until) {
      int status = 0;
      BOOST_REQUIRE_MESSAGE(::waitpid(pid, &status, WNOHANG) == 0,
                            "etcd exited at once (is etcd-server installed? scripts/setup)");
      up = c.get("/probe", error).has_value();
    }
    BOOST_REQUIRE_MESSAGE(up, "etcd did not answer at " + url + ": " + error);
  }

  ~etcd_server() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(etcd_leadership)

BOOST_AUTO_TEST_CASE(base64_round_trips_and_refuses_what_is_not) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string{"\0\xff\x10", 3}})
    BOOST_TEST(runtime::decode_base64(runtime::encode_base64(s)).value_or("?") == s);
  BOOST_TEST(runtime::encode_base64("/nexus/c/leader") == "L25leHVzL2MvbGVhZGVy");
  BOOST_TEST(!runtime::decode_base64("abc"));  // not a multiple of four
  BOOST_TEST(!runtime::decode_base64("a*c="));
}

BOOST_AUTO_TEST_CASE(the_first_campaign_leads_the_others_see_it_and_only_it_resigns) {
  etcd_server etcd;
  etcd_client c{{etcd.url}, std::chrono::seconds(5)};
  std::string error;
  auto lease_a = c.grant(std::chrono::seconds(30), error);
  auto lease_b = c.grant(std::chrono::seconds(30), error);
  BOOST_REQUIRE_MESSAGE(lease_a && lease_b, error);
  BOOST_TEST(*lease_a != *lease_b);
  BOOST_TEST(c.keep_alive(*lease_a, error).value_or(0) > 0, error);

  const std::string key = "/nexus/test/leader";
  auto a = c.campaign(key, "node-a", *lease_a, error);
  BOOST_REQUIRE_MESSAGE(a, error);
  BOOST_TEST(a->won);
  BOOST_TEST(a->holder.create_revision > 0);
  auto b = c.campaign(key, "node-b", *lease_b, error);
  BOOST_REQUIRE_MESSAGE(b, error);
  BOOST_TEST(!b->won);
  BOOST_TEST(b->holder.value == "node-a");
  BOOST_TEST(b->holder.lease == *lease_a);
  BOOST_TEST(b->holder.create_revision == a->holder.create_revision); // the epoch

  // Only the holder's own key goes: an older epoch's resign is refused.
  BOOST_TEST(c.resign(key, a->holder.create_revision - 1, error).value_or(true) == false);
  BOOST_TEST(c.get(key, error)->value == "node-a");
  BOOST_TEST(c.resign(key, a->holder.create_revision, error).value_or(false));
  BOOST_TEST(c.get(key, error)->create_revision == 0); // absent

  auto b2 = c.campaign(key, "node-b", *lease_b, error);
  BOOST_REQUIRE_MESSAGE(b2, error);
  BOOST_TEST(b2->won);
  BOOST_TEST(b2->holder.create_revision > a->holder.create_revision); // a later epoch

  // A revoked lease takes its key with it, and renews no more.
  BOOST_TEST(c.revoke(*lease_b, error), error);
  BOOST_TEST(c.get(key, error)->create_revision == 0);
  BOOST_TEST(c.keep_alive(*lease_b, error).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(keys_put_are_read_back_by_their_prefix_in_key_order) {
  etcd_server etcd;
  etcd_client c{{etcd.url}, std::chrono::seconds(5)};
  std::string error;
  BOOST_TEST(c.put("/nexus/c/marks/n2", "5:2:14", error), error);
  BOOST_TEST(c.put("/nexus/c/marks/n1", "5:2:12", error), error);
  BOOST_TEST(c.put("/nexus/c/marksx", "not under the prefix", error), error);
  BOOST_TEST(c.put("/nexus/c/marks/n2", "5:2:15", error), error); // replaced
  auto all = c.range("/nexus/c/marks/", error);
  BOOST_REQUIRE_MESSAGE(all, error);
  BOOST_REQUIRE(all->size() == 2u);
  BOOST_TEST((*all)[0].first == "/nexus/c/marks/n1");
  BOOST_TEST((*all)[0].second == "5:2:12");
  BOOST_TEST((*all)[1].second == "5:2:15");
  BOOST_TEST(c.range("/nexus/other/", error)->empty());
}

BOOST_AUTO_TEST_CASE(a_dead_endpoint_is_passed_over_and_none_answering_is_an_error) {
  etcd_server etcd;
  auto dead = "http://127.0.0.1:" + std::to_string(free_port());
  std::string error;
  etcd_client both{{dead, etcd.url}, std::chrono::seconds(5)};
  BOOST_TEST(both.grant(std::chrono::seconds(5), error).has_value(), error);
  etcd_client none{{dead}, std::chrono::seconds(1)};
  BOOST_TEST(!none.grant(std::chrono::seconds(5), error));
  BOOST_TEST(error.find("no etcd endpoint answered (" + dead) == 0u, error);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace runtime_etcd_client_test
