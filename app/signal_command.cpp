#include <iostream>

#include <simdjson.h>

#include "actors/remote_tools.hpp"
#include "app/commands.hpp"
#include "app/saga_operations.hpp"
#include "config/json_syntax.hpp"
#include "config/workflow_loader.hpp"
#include "runtime/signal_log.hpp"
#include "storage/correlation_id.hpp"
#include "storage/event_log.hpp"
#include "storage/timestamp.hpp"

namespace nexus::app {

namespace {

/// `--data` minified, or why it is not JSON.
bool read_data(const std::string& text, std::string& out, std::string& error) {
  if (text.empty())
    return true;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc)) {
    config::json_syntax_error where;
    error = config::find_json_syntax_error(text, where)
              ? "--data: not JSON: column " + std::to_string(where.column) + ": " + where.message
              : std::string{"--data: not JSON this program can take"};
    return false;
  }
  out = simdjson::minify(doc);
  return true;
}

int report(const signal_args& args, const runtime::saga_signal& s, runtime::signal_result r,
           const std::string& detail) {
  using runtime::signal_result;
  switch (r) {
    case signal_result::stored:
    case signal_result::duplicate:
      if (args.json)
        std::cout << signal_json(s, r == signal_result::duplicate) << '\n';
      else
        std::cout << "signal " << s.name << " to " << s.cid
                  << (r == signal_result::stored ? ": stored\n"
                                                 : ": a duplicate of one received before (same "
                                                   "--id), stored once\n");
      return 0;
    case signal_result::unknown:
      std::cerr << "nexus: no saga " << s.cid << " in the log\n";
      return 2;
    case signal_result::ended:
      std::cerr << "nexus: saga " << s.cid << " has ended" << (detail.empty() ? "" : " (" + detail + ")")
                << ": no step waits for a signal\n";
      return 2;
    case signal_result::failed:
      break;
  }
  std::cerr << "nexus: the signal was not stored: " << detail << '\n';
  return 1;
}

/// Into a data directory that no process holds: appended to the saga's
/// events, for the run that resumes it.
int signal_dir(const signal_args& args, const runtime::saga_signal& s) {
  std::string error;
  // The writer's lock: a directory a running process holds is refused.
  auto log = storage::event_log::open(
    storage::log_options::writer(args.data_dir, config::durability::sync), error);
  if (!log) {
    std::cerr << "nexus: " << error
              << " (a running nexus holds it? signal it with --to HOST:PORT)\n";
    return 1;
  }
  storage::append_request append;
  std::string detail;
  auto r = runtime::plan_logged_signal(*log, s, storage::now_us(), append, detail);
  if (r == runtime::signal_result::stored) {
    if (auto st = log->write({&append}); !st) {
      detail = st.message();
      r = runtime::signal_result::failed;
    }
  }
  return report(args, s, r, detail);
}

/// To a nexus serve: through its gateway, as the MCP tool signal_saga.
int signal_remote(const signal_args& args, const runtime::saga_signal& s) {
  int status = 0;
  auto remote = connect_tools("--to", args.to, args, status);
  if (!remote)
    return status;
  auto [is_error, text] = remote->call("signal_saga", runtime::signal_tool_arguments(s));
  if (is_error) {
    std::cerr << "nexus: " << text << '\n';
    // The tool's words (app/saga_operations.cpp): an unknown or an ended
    // saga is the caller's mistake; anything else the server's.
    bool caller = text.rfind("correlation_id: no saga " + s.cid, 0) == 0
                  || text.rfind("saga " + s.cid + " has ended", 0) == 0;
    return caller ? 2 : 1;
  }
  bool duplicate = text.find(R"("result":"duplicate")") != std::string::npos;
  return report(args, s, duplicate ? runtime::signal_result::duplicate
                                   : runtime::signal_result::stored, "");
}

} // namespace

int signal(const signal_args& args) {
  runtime::saga_signal s{args.cid, args.name, {}, args.id};
  if (!storage::valid_correlation_id(s.cid)) {
    std::cerr << "nexus: " << storage::correlation_id_problem(s.cid) << '\n';
    return 2;
  }
  if (!config::valid_name(s.name)) {
    std::cerr << "nexus: signal name \"" << s.name << "\" is invalid (1 to 64 of A-Z a-z 0-9 . _ -)\n";
    return 2;
  }
  std::string error;
  if (!read_data(args.data, s.data, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 2;
  }
  if (args.to.empty() == args.data_dir.empty()) {
    std::cerr << "nexus: signal needs --data-dir DIR (no process holds it) or --to HOST:PORT (a "
                 "nexus serve)\n";
    return 2;
  }
  return args.to.empty() ? signal_dir(args, s) : signal_remote(args, s);
}

} // namespace nexus::app
