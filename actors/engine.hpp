#pragma once

#include <cstdint>
#include <string>

#include "config/workflow.hpp"
#include "runtime/run_summary.hpp"

namespace nexus::runtime {
class handler_registry;
}

namespace nexus::actors {

/// Where a run's new sagas come from: an input file, or `generate` copies of
/// saga `saga`, or neither (then the run only resumes unfinished sagas).
struct run_options {
  std::string input_path;
  std::uint64_t generate = 0;
  std::string saga;
  /// The C++ handlers that `handler` actions name; may be null when the
  /// workflow has none. Must outlive the run.
  const runtime::handler_registry* handlers = nullptr;
};

/// Runs a workflow to the end on a CAF actor system: resumes every
/// unfinished saga in `wf.runtime.data_dir`, starts the new ones, and
/// returns when all have ended. Returns the exit status (0, 1 or 2) and
/// fills `summary`.
int run_workflow(const config::workflow& wf, const run_options& opts,
                 runtime::run_summary& summary);

} // namespace nexus::actors
