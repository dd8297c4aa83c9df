#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include "config/trace_context.hpp"
#include "config/workflow.hpp"

namespace nexus::runtime {

/// What a log line is about. Every field that is set becomes a key of the
/// line's JSON object: `correlation_id`, `saga`, `step`, `attempt` (when not
/// 0), `resource` (breaker lines) and `status` (a saga's end). The fields
/// are views: they need only outlive the call that logs.
struct log_context {
  log_context() = default;
  log_context(std::string_view cid, std::string_view saga_name = {},
              std::string_view step_name = {}, std::uint32_t attempt_number = 0)
    : correlation_id(cid), saga(saga_name), step(step_name), attempt(attempt_number) {}

  /// A breaker's line.
  static log_context of_resource(std::string_view name) {
    log_context c;
    c.resource = name;
    return c;
  }

  std::string_view correlation_id;
  std::string_view saga;
  std::string_view step;
  std::uint32_t attempt = 0;
  std::string_view resource;
  std::string_view status;
  /// The saga's trace (null: none): a line carries its `trace_id`, and a
  /// line about an attempt (a step and attempt set) the attempt's
  /// `span_id` (config::attempt_span; `compensation` says of which).
  const config::trace_context* trace = nullptr;
  bool compensation = false;
  /// The attempt's span when known outright (a stage's line); 0: from the above.
  std::uint64_t span = 0;
};

namespace detail {

/// The context of the line this thread is logging (null: none). The sinks
/// are synchronous, so the formatters run on the logging thread and read it.
extern thread_local const log_context* current_log_context;

} // namespace detail

/// Logs a line about `ctx` with the default logger; costs a level check
/// when `level` is off.
template <class... Ts>
void log(spdlog::level::level_enum level, const log_context& ctx,
         fmt::format_string<Ts...> format, Ts&&... args) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level))
    return;
  auto* outer = std::exchange(detail::current_log_context, &ctx);
  logger->log(level, format, std::forward<Ts>(args)...);
  detail::current_log_context = outer;
}

/// The node name in every line (`node`): the host name unless set (before
/// anything logs).
void set_log_node(std::string node);
const std::string& log_node();

/// Microseconds from some fixed point: what a watched_sink times writes with.
using log_clock = std::function<std::int64_t()>;

/// A sink that writes through `inner` and says so when writing falls behind.
/// Lines are never dropped: a thread that logs waits for the write. When a
/// write takes `slow_us` or more, it adds a warning line (at most one per
/// `every_us`) to `inner` and to stderr, with the number of slow writes.
class watched_sink final : public spdlog::sinks::sink {
public:
  watched_sink(std::shared_ptr<spdlog::sinks::sink> inner, log_clock now_us,
               std::int64_t slow_us = 200'000, std::int64_t every_us = 10'000'000);

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  /// Writes that took `slow_us` or more so far.
  std::uint64_t slow_writes() const { return slow_.load(); }

private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  log_clock now_us_;
  std::int64_t slow_us_;
  std::int64_t every_us_;
  std::atomic<std::uint64_t> slow_{0};
  std::atomic<std::int64_t> warned_at_{INT64_MIN};
};

/// The JSON-lines formatter of the log file: one object per line with `ts`
/// (RFC 3339, microseconds, UTC), `level`, `logger`, `msg`, the fields of
/// the line's log_context and `node`. Every string is escaped, invalid
/// UTF-8 replaced, so that no value can break a line or forge another.
std::unique_ptr<spdlog::formatter> make_json_formatter();

/// The console's human formatter: `nexus: LEVEL: [cid saga/step #attempt]
/// message`, the level coloured by a colour sink, control characters shown
/// escaped so that no value can drive the terminal.
std::unique_ptr<spdlog::formatter> make_console_formatter();

/// Whether stderr gets colours: a terminal, and NO_COLOR not set.
bool console_colours();

/// Sets the default spdlog logger: JSON lines to `logging.file` (under
/// `data_dir` unless absolute), rotated by size, watched for slow writes;
/// and a human console on stderr from `logging.console_level` on, coloured
/// on a terminal. False, with `error` set, if the file cannot be opened.
bool setup_logging(const config::logging_settings& logging, const std::string& data_dir,
                   std::string& error);

} // namespace nexus::runtime
