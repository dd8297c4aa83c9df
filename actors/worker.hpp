#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/client_end.hpp"
#include "config/workflow.hpp"

namespace nexus::runtime {
class handler_registry;
class meter_board;
}

namespace nexus::actors {

/// A worker node of a cluster: stateless stages that a coordinator sends
/// step calls to.
struct worker_options {
  std::string host = "127.0.0.1"; ///< The coordinator's.
  std::uint16_t port = 0;
  /// The steps it serves, by step name or `<saga>/<step>`; empty: all.
  std::vector<std::string> stages;
  std::uint32_t capacity = 0;       ///< Calls at once; 0: its stages' workers.
  bool stay = false;                ///< Wait for the next run when one ends.
  /// How long to look for a coordinator, at start and when it is lost;
  /// none: for as long as the worker runs (a replicated cluster's next
  /// leader always comes, if only once etcd itself is back).
  std::optional<std::uint32_t> reconnect_seconds = 30;
  std::string token;
  std::string node;                 ///< Its name; empty: host:pid.
  std::uint32_t threads = 0;
  const runtime::handler_registry* handlers = nullptr;
  /// Set (by the program's signal handler, say) to stop it; looked at
  /// five times a second. Null: it stops only as below.
  const std::atomic<bool>* stop = nullptr;
  /// Where its stages count what the metrics show; null: nowhere. Must
  /// outlive the run.
  runtime::meter_board* meters = nullptr;
};

/// Runs a worker until the coordinator ends its run (done; with `stay`, it
/// waits for the next), until no coordinator could be reached for
/// `reconnect_seconds` when set (lost), or until `stop` is set (done). A join the
/// coordinator refuses (token, protocol version, steps) or bad options:
/// refused. `error` says why when it is not done.
client_end run_worker(const config::workflow& wf, const worker_options& opts, std::string& error);

} // namespace nexus::actors
