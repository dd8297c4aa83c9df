#pragma once

#include <memory>
#include <string>
#include <utility>

#include "actors/submit.hpp"

namespace nexus::actors {

/// A connection to a coordinator (`nexus serve`) that runs tool calls there:
/// `nexus mcp --connect`. The coordinator runs each on its own engine and
/// log, as a local `nexus mcp` would (see spawn_gateway).
class remote_tools {
public:
  /// Connects to the coordinator that `opts` names (host, port, cluster,
  /// token and TLS; the rest is not used). Null, with `error` set, when it
  /// cannot be reached.
  static std::unique_ptr<remote_tools> connect(const submit_options& opts, std::string& error);

  ~remote_tools();
  remote_tools(const remote_tools&) = delete;
  remote_tools& operator=(const remote_tools&) = delete;

  /// Runs `tool` with `arguments` (a JSON object) on the coordinator:
  /// whether it failed, and its result or why it failed (also when the
  /// coordinator is lost or does not answer within `timeout_s`).
  std::pair<bool, std::string> call(const std::string& tool, const std::string& arguments,
                                    int timeout_s = 60);

private:
  struct impl;
  explicit remote_tools(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace nexus::actors
