#pragma once

// What `nexus serve` runs for a replicated coordinator (docs/ha.md, issue
// #24) beside the engine it runs while it leads: its campaign in etcd, and,
// while another leads, the replica that copies the leader's log into this
// node's data directory. They run on a small actor system of its own,
// which outlives the engines that come and go with leadership.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "actors/ha/leadership.hpp"
#include "config/workflow.hpp"

namespace nexus::actors {

/// How to reach a coordinator: what the leader puts in its etcd key.
struct coordinator_address {
  std::string node;   ///< --node
  std::string listen; ///< HOST:PORT of its gateway (workers, followers, nexus submit)
  std::string http;   ///< HOST:PORT of its HTTP API ("" without --http)

  std::string to_json() const;
  /// From a leader key's value; nothing if it is not one (a `listen`
  /// that is not HOST:PORT included).
  static std::optional<coordinator_address> from_json(const std::string& text);
};

class ha_node {
public:
  /// Starts campaigning as `me`, on `wf.cluster.ha`'s etcd, for the key
  /// /nexus/<cluster name>/leader; `token` is what it presents to leaders
  /// (the cluster token).
  ha_node(const config::workflow& wf, coordinator_address me, std::string token);
  /// Stops following (the log closes) and gives its lease up.
  ~ha_node();
  ha_node(const ha_node&) = delete;
  ha_node& operator=(const ha_node&) = delete;

  /// Waits up to `limit` for news of leadership, or a wake(): the latest
  /// view when it changed since the last call.
  std::optional<leadership_view> next(std::chrono::milliseconds limit);
  /// Makes a next() that waits return at once.
  void wake();

  /// Leaves leadership to another coordinator (one whose log is longer):
  /// steps down if it leads, and campaigns again only after a lease.
  void yield();

  /// Says in etcd which batch its log ends with, for the leader of
  /// `epoch`, who must not begin before it knows (see gather()).
  void report(std::int64_t epoch);

  /// What a node that has just won leadership learns before it writes
  /// anything: the marks its followers reported for its epoch.
  struct gathered {
    std::uint32_t reported = 0; ///< Followers heard.
    std::string longer;         ///< One whose log ends with a later batch than this node's, or "".
  };
  /// Stops following (the first time for an epoch: its log ends where it
  /// ends) and reads the followers' reports for `epoch`. A new leader must
  /// not begin while one holds a later batch: batches the former leader had
  /// acknowledged may be there and nowhere here.
  gathered gather(std::int64_t epoch);

  /// Follows the leader at `leader` (its gateway): opens the log in the
  /// workflow's data directory (unless it is open), and has its replica
  /// follow the leader's shipper from what it holds. False, with `error`,
  /// when the leader cannot be reached (try again) or the log cannot be
  /// opened (`fatal`).
  bool follow(const coordinator_address& leader, std::string& error, bool& fatal);
  /// Stops following and closes the log (before an engine opens it).
  void stop_following();
  /// The last batch the replica holds durable (epoch, position); zeros
  /// when it follows no one.
  std::pair<std::uint64_t, std::uint64_t> held();

  struct impl; ///< Its state, in node.cpp (named there by its actors).

private:
  std::unique_ptr<impl> impl_;
};

} // namespace nexus::actors
