#include "runtime/saga_log.hpp"

#include "runtime/logging.hpp"
#include "runtime/saga_machine.hpp"
#include "storage/timestamp.hpp"

namespace nexus::runtime {

namespace {

using spdlog::level::level_enum;
using storage::event_type;

std::string_view kind_of(const storage::event& e) {
  return e.error ? config::to_string(*e.error) : std::string_view{"error"};
}

} // namespace

void log_saga_events(const saga_machine& m, const std::vector<storage::event>& events) {
  for (auto& e : events) {
    log_context ctx{m.cid(), m.spec().name, e.step, e.attempt};
    ctx.trace = &m.trace();
    ctx.compensation = e.compensation || e.type == event_type::compensation_started
                       || e.type == event_type::compensation_succeeded
                       || e.type == event_type::compensation_failed;
    switch (e.type) {
      case event_type::saga_started:
        log(level_enum::info, ctx, "saga started");
        break;
      case event_type::step_started:
        log(level_enum::debug, ctx, "step started");
        break;
      case event_type::step_succeeded:
        log(level_enum::debug, ctx, "step succeeded");
        break;
      case event_type::step_failed:
        log(level_enum::info, ctx, "step failed: {}: {}", kind_of(e), e.message);
        break;
      case event_type::step_retry_scheduled:
        log(level_enum::debug, ctx, "{} attempt {} at {}",
            e.compensation ? "compensation" : "step", e.attempt,
            storage::format_timestamp(e.retry_at_us));
        break;
      case event_type::compensation_started:
        log(level_enum::info, ctx, "compensating");
        break;
      case event_type::compensation_succeeded:
        log(level_enum::debug, ctx, "compensation succeeded");
        break;
      case event_type::compensation_failed:
        log(level_enum::err, ctx, "compensation failed: {}: {}", kind_of(e), e.message);
        break;
      case event_type::cancel_requested:
        log(level_enum::info, ctx, "cancel requested");
        break;
      case event_type::retry_requested:
        log(level_enum::info, ctx, "compensation reopened by an operator");
        break;
      case event_type::signal_received:
        log(level_enum::info, ctx, "signal {} received{}", e.signal,
            e.signal_id.empty() ? std::string{} : " (signal_id " + e.signal_id + ")");
        break;
      case event_type::step_waiting:
        if (!e.signal.empty())
          log(level_enum::debug, ctx, "waiting for signal {}{}", e.signal,
              e.wake_at_us == 0 ? std::string{}
                                : " until " + storage::format_timestamp(e.wake_at_us));
        else
          log(level_enum::debug, ctx, "{}sleeping until {}", e.compensation ? "compensation " : "",
              storage::format_timestamp(e.wake_at_us));
        break;
      default: // the end (log_saga_end) and breaker events
        break;
    }
  }
}

void log_saga_end(const saga_machine& m) {
  auto status = to_string(m.status());
  // Compensated and cancelled are outcomes a workflow plans for; failed
  // (a compensation that failed for good) needs an operator.
  auto level = m.status() == saga_status::failed ? level_enum::err : level_enum::info;
  log_context ctx{m.cid(), m.spec().name};
  ctx.trace = &m.trace();
  ctx.status = status;
  log(level, ctx, "saga ended {}", status);
}

} // namespace nexus::runtime
