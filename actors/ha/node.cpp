#include "actors/ha/node.hpp"

#include <condition_variable>
#include <mutex>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/caller.hpp"
#include "actors/cluster/transport.hpp"
#include "actors/ha/replication.hpp"
#include "actors/messages.hpp"
#include "actors/system_config.hpp"
#include "config/json_tree.hpp"
#include "config/json_writer.hpp"
#include "runtime/etcd_client.hpp"
#include "runtime/logging.hpp"
#include "storage/event_log.hpp"

namespace nexus::actors {

std::string coordinator_address::to_json() const {
  std::string out;
  config::json_object_writer w{out};
  w.field("node", node).field("listen", listen).field("http", http);
  w.finish();
  return out;
}

std::optional<coordinator_address> coordinator_address::from_json(const std::string& text) {
  config::json_parse_error err;
  auto tree = config::parse_json_tree(text, err);
  if (!tree || tree->type != config::json_node::kind::object)
    return std::nullopt;
  coordinator_address a;
  for (auto [key, field] : {std::pair{"node", &a.node}, std::pair{"listen", &a.listen},
                            std::pair{"http", &a.http}}) {
    auto m = tree->find(key);
    if (m == nullptr || m->value.type != config::json_node::kind::string)
      return std::nullopt;
    *field = m->value.text;
  }
  // HOST:PORT, the port a number: the followers and workers connect there.
  auto colon = a.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == a.listen.size()
      || a.listen.size() - colon > 6
      || a.listen.find_first_not_of("0123456789", colon + 1) != std::string::npos
      || std::stoul(a.listen.substr(colon + 1)) > 65535)
    return std::nullopt;
  return a;
}

// The actor system goes last: every handle before it (~actor_system waits
// for the actors).
struct ha_node::impl {
  const config::workflow& wf;
  coordinator_address me;
  std::string token;
  std::unique_ptr<system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor leadership;
  caf::actor listener; ///< Takes the leadership's news to next().
  caf::actor replica;
  /// The app thread's own etcd client (reports and gathering).
  std::unique_ptr<runtime::etcd_client> etcd;
  std::string marks; ///< /nexus/<cluster>/marks/
  std::int64_t gathering = 0; ///< The epoch it gathers for (0: none).
  std::pair<std::uint64_t, std::uint64_t> own{0, 0}; ///< Its log's last batch then.

  /// The last batch of its log: the replica's, or read from the log.
  std::pair<std::uint64_t, std::uint64_t> last_batch(ha_node& node) {
    if (replica)
      return node.held();
    std::string error;
    if (auto log = storage::event_log::open(storage::log_options::reader(wf.runtime.data_dir),
                                            error)) {
      auto mark = log->replication();
      return {mark.epoch, mark.position};
    }
    return {0, 0}; // no log yet
  }

  std::mutex m;
  std::condition_variable changed;
  std::optional<leadership_view> news;
  bool woken = false;

  impl(const config::workflow& w, coordinator_address a, std::string t)
    : wf(w), me(std::move(a)), token(std::move(t)) {}
};

namespace {

/// Takes the leadership's news to next(). Spawned with an argument: CAF
/// 0.17 spawns a function of none through a null tuple (UBSan flags it).
caf::behavior news_listener(caf::event_based_actor*, ha_node::impl* d) {
  return {[d](leadership_atom, leadership_view& v) {
    std::lock_guard<std::mutex> lock{d->m};
    d->news = std::move(v);
    d->changed.notify_all();
  }};
}

} // namespace

ha_node::ha_node(const config::workflow& wf, coordinator_address me, std::string token)
  : impl_(std::make_unique<impl>(wf, std::move(me), std::move(token))) {
  auto& d = *impl_;
  d.cfg = std::make_unique<system_config>(2, wf.cluster);
  d.sys = std::make_unique<caf::actor_system>(*d.cfg);
  d.listener = d.sys->spawn(news_listener, &d);
  auto& ha = wf.cluster.ha;
  leadership_setup setup;
  setup.key = "/nexus/" + wf.cluster.name + "/leader";
  setup.value = d.me.to_json();
  setup.lease = std::chrono::milliseconds(ha.lease_ms);
  // A tenth of the lease for the two clocks' drift and the answer's way
  // back; a failed call is asked again at a twelfth (four tries a third).
  setup.margin = setup.lease / 10;
  setup.retry = setup.lease / 12;
  // Each call waits at most a sixth of the lease for etcd: a renewal that
  // hangs must not eat the term it renews.
  setup.etcd = std::make_shared<runtime::etcd_client>(ha.etcd, setup.lease / 6);
  d.etcd = std::make_unique<runtime::etcd_client>(ha.etcd, setup.lease / 6);
  d.marks = "/nexus/" + wf.cluster.name + "/marks/";
  setup.owner = d.listener;
  d.leadership = spawn_leadership(*d.sys, std::move(setup));
}

ha_node::~ha_node() {
  auto& d = *impl_;
  stop_following();
  caf::scoped_actor self{*d.sys};
  self->send_exit(d.leadership, caf::exit_reason::user_shutdown);
  self->wait_for(d.leadership);
  self->send_exit(d.listener, caf::exit_reason::user_shutdown);
  d.leadership = nullptr;
  d.listener = nullptr;
}

std::optional<leadership_view> ha_node::next(std::chrono::milliseconds limit) {
  auto& d = *impl_;
  std::unique_lock<std::mutex> lock{d.m};
  d.changed.wait_for(lock, limit, [&d] { return d.news.has_value() || d.woken; });
  d.woken = false;
  auto v = std::move(d.news);
  d.news.reset();
  return v;
}

void ha_node::wake() {
  auto& d = *impl_;
  std::lock_guard<std::mutex> lock{d.m};
  d.woken = true;
  d.changed.notify_all();
}

void ha_node::yield() {
  auto& d = *impl_;
  // Half a lease: the longer log's holder campaigns every sixth of one.
  auto hold = std::chrono::duration_cast<std::chrono::microseconds>(
    std::chrono::milliseconds(d.wf.cluster.ha.lease_ms / 2));
  caf::anon_send(d.leadership, leadership_atom::value, static_cast<std::int64_t>(hold.count()));
}

void ha_node::report(std::int64_t epoch) {
  auto& d = *impl_;
  auto mark = d.last_batch(*this);
  std::string error;
  if (!d.etcd->put(d.marks + d.me.node,
                   std::to_string(epoch) + " " + std::to_string(mark.first) + " "
                     + std::to_string(mark.second),
                   error))
    runtime::log(spdlog::level::warn, {}, "cannot tell etcd where its log ends: {}", error);
}

ha_node::gathered ha_node::gather(std::int64_t epoch) {
  auto& d = *impl_;
  if (d.gathering != epoch) {
    d.own = d.last_batch(*this);
    stop_following();
    d.gathering = epoch;
  }
  gathered g;
  std::string error;
  auto all = d.etcd->range(d.marks, error);
  if (!all) {
    runtime::log(spdlog::level::warn, {}, "cannot read the followers' marks from etcd: {}", error);
    return g;
  }
  for (auto& [key, value] : *all) {
    auto node = key.substr(d.marks.size());
    std::int64_t for_epoch = 0;
    std::uint64_t e = 0, p = 0;
    if (node == d.me.node || std::sscanf(value.c_str(), "%ld %lu %lu", &for_epoch, &e, &p) != 3
        || for_epoch != epoch)
      continue;
    ++g.reported;
    if (std::pair{e, p} > d.own)
      g.longer = node;
  }
  return g;
}

bool ha_node::follow(const coordinator_address& leader, std::string& error, bool& fatal) {
  auto& d = *impl_;
  fatal = false;
  auto colon = leader.listen.rfind(':');
  if (colon == std::string::npos) {
    error = "the leader's address " + leader.listen + " has no port";
    return false;
  }
  auto host = leader.listen.substr(0, colon);
  auto port = static_cast<std::uint16_t>(std::stoul(leader.listen.substr(colon + 1)));
  auto gateway = connect_to(*d.sys, host, port);
  if (!gateway) {
    error = "cannot reach the leader " + leader.node + " at " + leader.listen + ": "
            + d.sys->render(gateway.error());
    return false;
  }
  if (!d.replica) {
    auto log = storage::event_log::open(
      storage::log_options::writer(d.wf.runtime.data_dir, d.wf.runtime.durability), error);
    if (!log) {
      fatal = true;
      return false;
    }
    replica_setup setup{d.wf.runtime.data_dir, d.wf.runtime.durability, d.me.node};
    // On the scheduler: it answers the leader's node (see the coordinator's
    // done_atom on detached actors that name themselves to other nodes).
    d.replica = spawn_replica(*d.sys, std::move(setup), std::move(log), false);
  }
  auto mark = held();
  caller self{*d.sys};
  caf::actor shipper;
  self->request(*gateway, std::chrono::seconds(5), follow_atom::value, d.token, d.me.node,
                mark.first, mark.second)
    .receive([&](caf::actor& s) { shipper = std::move(s); },
             [&](caf::error& err) { error = "the leader " + leader.node + " at " + leader.listen
                                            + " did not hand its log over: " + d.sys->render(err); });
  if (!shipper)
    return false;
  caf::anon_send(d.replica, follow_atom::value, shipper);
  runtime::log(spdlog::level::info, {}, "following {} at {}: copying its log", leader.node,
               leader.listen);
  return true;
}

void ha_node::stop_following() {
  auto& d = *impl_;
  if (!d.replica)
    return;
  caf::scoped_actor self{*d.sys};
  self->send_exit(d.replica, caf::exit_reason::user_shutdown);
  self->wait_for(d.replica);
  d.replica = nullptr;
}

std::pair<std::uint64_t, std::uint64_t> ha_node::held() {
  auto& d = *impl_;
  std::pair<std::uint64_t, std::uint64_t> mark{0, 0};
  if (!d.replica)
    return mark;
  caller self{*d.sys};
  self->request(d.replica, std::chrono::seconds(5), stats_atom::value)
    .receive([&](std::uint64_t epoch, std::uint64_t position) { mark = {epoch, position}; },
             [](caf::error&) {});
  return mark;
}

} // namespace nexus::actors
