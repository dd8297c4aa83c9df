#pragma once

#include <csignal>
#include <string>

#include "actors/engine.hpp"
#include "app/commands.hpp"
#include "app/http_server.hpp"
#include "runtime/run_summary.hpp"

namespace nexus::app {

/// `nexus serve` as one of a workflow's replicated coordinators
/// (cluster.ha, docs/ha.md): it follows the leader, copying its log, and
/// runs `opts`' engine while it leads. `stop` holds SIGTERM and SIGINT,
/// blocked in every thread. Returns the exit status.
int serve_replicated(const serve_args& args, const config::workflow& wf,
                     actors::run_options opts, const http_settings* http,
                     const std::string& http_token, const sigset_t& stop);

/// What `nexus serve` prints as it ends (the summary, as JSON with
/// --json), and its exit status.
int report_end(const serve_args& args, const runtime::run_summary& s);

} // namespace nexus::app
