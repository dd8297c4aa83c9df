// nexus mcp: a Model Context Protocol server over stdio.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>

#include <unistd.h>

#include "actors/engine.hpp"
#include "actors/remote_tools.hpp"
#include "app/commands.hpp"
#include "app/mcp_server.hpp"
#include "app/mcp_tools.hpp"
#include "config/workflow.hpp"
#include "runtime/logging.hpp"

namespace nexus::app {

namespace {

volatile std::sig_atomic_t stop_signal = 0;

void on_mcp_stop_signal(int sig) {
  stop_signal = sig;
}

/// Reads stdin one line at a time, never holding more than `limit` bytes
/// of one: a longer line is skipped, and only its length is told.
class line_reader {
public:
  explicit line_reader(std::size_t limit) : limit_(limit) {}

  enum class result { line, too_large, end };

  /// The next line (without its newline, nor a carriage return before it).
  result next(std::string& line, std::size_t& skipped_bytes) {
    for (;;) {
      auto nl = buffer_.find('\n', scanned_);
      if (nl != std::string::npos) {
        if (skipping_ || nl > limit_) {
          skipped_bytes = skipped_ + nl;
          buffer_.erase(0, nl + 1);
          scanned_ = 0;
          skipping_ = false;
          skipped_ = 0;
          return result::too_large;
        }
        line.assign(buffer_, 0, nl);
        buffer_.erase(0, nl + 1);
        scanned_ = 0;
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        return result::line;
      }
      scanned_ = buffer_.size();
      if (buffer_.size() > limit_) {
        skipping_ = true;
        skipped_ += buffer_.size();
        buffer_.clear();
        scanned_ = 0;
      }
      char chunk[64 * 1024];
      auto n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) {
        if (stop_signal != 0)
          return result::end;
        continue;
      }
      if (n <= 0) {
        if (!buffer_.empty() && !skipping_) { // a last line without its newline
          line = std::move(buffer_);
          buffer_.clear();
          return result::line;
        }
        return result::end;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

private:
  std::size_t limit_;
  std::string buffer_;
  std::size_t scanned_ = 0; ///< Bytes of buffer_ known to hold no newline.
  bool skipping_ = false;
  std::size_t skipped_ = 0;
};

/// Serves `server` over stdin and `out` until stdin closes (or a signal).
void serve_stdio(mcp_server& server, std::FILE* out, std::size_t limit) {
  line_reader reader{limit};
  std::string line;
  std::size_t skipped = 0;
  for (;;) {
    std::string reply;
    auto r = reader.next(line, skipped);
    if (r == line_reader::result::end)
      return;
    if (r == line_reader::result::too_large) {
      runtime::log(spdlog::level::warn, {}, "mcp: a message of {} bytes refused: over the limit of {}",
                   skipped, limit);
      reply = server.too_large(skipped, limit);
    } else if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    } else {
      reply = server.handle(line);
    }
    if (reply.empty())
      continue;
    reply += '\n';
    if (std::fwrite(reply.data(), 1, reply.size(), out) != reply.size() || std::fflush(out) != 0) {
      runtime::log(spdlog::level::warn, {}, "mcp: the client has gone (stdout closed)");
      return;
    }
  }
}

/// Keeps stdout for the protocol alone: the protocol gets a copy of it, and
/// file descriptor 1 becomes stderr, so that nothing else (a library, a
/// step's program) can write there. Null if it cannot.
std::FILE* take_stdout() {
  std::fflush(stdout);
  int fd = ::dup(STDOUT_FILENO);
  if (fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    return nullptr;
  return ::fdopen(fd, "w");
}

void on_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_mcp_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; // no SA_RESTART: a signal ends the read
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN); // a closed stdout is seen as a failed write
}

int serve_remote(const mcp_args& args, std::FILE* out) {
  if (!args.workflow.empty()) {
    std::cerr << "nexus: mcp --connect takes no workflow: the coordinator runs its own\n";
    return 2;
  }
  int status = 0;
  auto remote = connect_tools("--connect", args.connect, args, status);
  if (!remote)
    return status;
  mcp_server server{mcp_tools_json(nullptr), [&](std::string_view tool, std::string_view a) {
                      auto [is_error, text] = remote->call(std::string{tool}, std::string{a});
                      return tool_answer{is_error, std::move(text)};
                    }};
  runtime::log(spdlog::level::info, {}, "mcp: serving on stdio, tools run by the coordinator at {}",
               args.connect);
  serve_stdio(server, out, args.max_message_bytes);
  return 0;
}

} // namespace

int mcp(const mcp_args& args) {
  auto* out = take_stdout();
  if (out == nullptr) {
    std::cerr << "nexus: mcp: cannot set stdout aside for the protocol\n";
    return 1;
  }
  on_signals();
  if (!args.connect.empty())
    return serve_remote(args, out);
  if (args.workflow.empty()) {
    std::cerr << "nexus: mcp needs a workflow file, or --connect HOST:PORT\n";
    return 2;
  }
  config::workflow wf;
  if (!load_or_report(args.workflow, {args.data_dir, args.log_level}, wf))
    return 2;
  std::string error;
  if (!runtime::setup_logging(wf.logging, wf.runtime.data_dir, error)) {
    std::cerr << "nexus: " << error << '\n';
    return 1;
  }
  actors::engine e{wf, {}};
  if (!e.ok()) {
    std::cerr << "nexus: " << e.error() << '\n';
    return e.exit_status();
  }
  mcp_server server{mcp_tools_json(&wf), [&](std::string_view tool, std::string_view a) {
                      return run_mcp_tool(e, wf, tool, a);
                    }};
  runtime::log(spdlog::level::info, {}, "mcp: serving on stdio (workflow {}, data_dir {})",
               args.workflow, wf.runtime.data_dir);
  serve_stdio(server, out, args.max_message_bytes);
  runtime::log(spdlog::level::info, {}, "mcp: {}: running sagas have {} s to end",
               stop_signal != 0 ? "stopped by a signal" : "stdin closed", args.grace_seconds);
  auto s = e.wait_for(std::chrono::seconds(args.grace_seconds));
  runtime::log(spdlog::level::info, {}, "mcp: stopped: started {}, resumed {}, {} still running "
               "(they resume on the next start)", s.started, s.resumed, s.interrupted);
  std::fclose(out);
  if (!s.error.empty())
    std::cerr << "nexus: " << s.error << '\n';
  return s.exit_status;
}

} // namespace nexus::app
