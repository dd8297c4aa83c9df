#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/breaker_actor.hpp"
#include "actors/event_log_writer.hpp"
#include "actors/messages.hpp"
#include "actors/stage.hpp"
#include "config/workflow.hpp"

namespace nexus::runtime {
class definition_catalog;
class handler_registry;
class meter_board;
}

namespace nexus::storage {
class event_log;
}

namespace nexus::actors {

class cluster_host;

/// The actors a run's steps are served by, and where each step's calls go.
struct step_wiring {
  /// Per definition (config::saga_spec::id), what each of its steps' calls
  /// go to: the breaker of the resource it names, else its stage (in a
  /// cluster, the dispatcher).
  std::map<std::uint64_t, std::vector<step_target>> targets;
  /// This node's, one per step name of a saga, over all its definitions
  /// (none: a cluster without local stages).
  std::vector<stage_actor> stages;
  std::vector<std::string> stage_names; ///< `<saga>/<step>` of each, in the same order.
  std::vector<breaker_actor> breakers;  ///< One per resource that a step names.
};

/// What wire_steps() needs besides the workflow.
struct wiring_inputs {
  std::uint32_t cores = 1;
  const runtime::handler_registry* handlers = nullptr;
  /// Where stages look up the definition each call names.
  const runtime::definition_catalog* definitions = nullptr;
  storage::event_log* log = nullptr; ///< Where breakers' rows are read.
  log_writer writer;
  const config::breaker_spec* default_breaker = nullptr; ///< For resources with no `breakers` entry.
  /// A cluster's coordinator: the host whose dispatcher takes the stages'
  /// place; `local_stages`: this node serves the steps too. Null: no cluster.
  cluster_host* cluster = nullptr;
  bool local_stages = true;
  /// Where stages and breakers count what the metrics show; null: nowhere.
  runtime::meter_board* meters = nullptr;
};

/// Spawns a stage per step name of each saga in `definitions` (the
/// workflow file's and those that unfinished or failed sagas run on: a
/// step that two definitions share has one stage) and a breaker per
/// resource, in front of the stages of the steps that name it (continuing
/// from its row in the log); in a cluster, joins this node's stages to the
/// dispatcher. False, with `error`, if a breaker's row cannot be read.
bool wire_steps(caf::actor_system& sys, const config::workflow& wf,
                const std::vector<const config::saga_spec*>& definitions, const wiring_inputs& in,
                step_wiring& out, std::string& error);

} // namespace nexus::actors
