#include "runtime/circuit_breaker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nexus::runtime {

namespace {

bool listed(const std::vector<config::error_kind>& kinds, config::error_kind k) {
  return std::find(kinds.begin(), kinds.end(), k) != kinds.end();
}

std::string percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", x);
  return buf;
}

} // namespace

std::string_view to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
    case breaker_state::forced_open:
      return "forced_open";
    case breaker_state::disabled:
      return "disabled";
  }
  return "closed";
}

circuit_breaker::circuit_breaker(const config::breaker_spec& spec) : spec_(spec) {
  reset_window();
  if (spec_.state == config::breaker_override::forced_open)
    state_ = breaker_state::forced_open;
  else if (spec_.state == config::breaker_override::disabled)
    state_ = breaker_state::disabled;
}

void circuit_breaker::restore(breaker_state stored, std::int64_t open_until_us,
                              std::uint32_t reopens, std::int64_t now_us,
                              std::vector<breaker_transition>& out) {
  state_ = stored;
  if (spec_.state == config::breaker_override::forced_open) {
    if (stored != breaker_state::forced_open)
      move_to(breaker_state::forced_open, now_us, "forced open by the workflow (state)", out);
    return;
  }
  if (spec_.state == config::breaker_override::disabled) {
    if (stored != breaker_state::disabled)
      move_to(breaker_state::disabled, now_us, "disabled by the workflow (state)", out);
    return;
  }
  switch (stored) {
    case breaker_state::forced_open:
    case breaker_state::disabled:
      move_to(breaker_state::closed, now_us, "the workflow no longer overrides its state", out);
      break;
    case breaker_state::open:
      open_until_us_ = open_until_us;
      reopens_ = reopens;
      break;
    case breaker_state::half_open:
      reopens_ = reopens;
      permits_left_ = spec_.half_open_calls;
      break;
    case breaker_state::closed:
      break;
  }
}

std::int64_t circuit_breaker::open_time_ms() const {
  double grown = static_cast<double>(spec_.open_ms) * std::pow(spec_.open_backoff, reopens_);
  return static_cast<std::int64_t>(std::min(grown, static_cast<double>(spec_.max_open_ms)));
}

std::uint32_t circuit_breaker::minimum_calls() const {
  if (state_ == breaker_state::half_open)
    return spec_.half_open_calls;
  if (spec_.window == config::window_type::count)
    return std::min(spec_.minimum_calls, spec_.window_size);
  return spec_.minimum_calls;
}

void circuit_breaker::reset_window() {
  ring_.assign(state_ == breaker_state::closed ? spec_.window_size : 0, bucket{});
  next_ = 0;
  count_calls_ = count_failed_ = count_slow_ = 0;
}

breaker_permit circuit_breaker::try_acquire(std::int64_t now_us,
                                            std::vector<breaker_transition>& out) {
  switch (state_) {
    case breaker_state::disabled:
    case breaker_state::closed:
      return {true, 0, generation_};
    case breaker_state::forced_open:
      return {false, static_cast<std::int64_t>(spec_.open_ms), 0};
    case breaker_state::open:
      if (now_us < open_until_us_)
        return {false, std::max<std::int64_t>(1, (open_until_us_ - now_us + 999) / 1000), 0};
      move_to(breaker_state::half_open, now_us, "its open time is up", out);
      [[fallthrough]];
    case breaker_state::half_open:
      if (permits_left_ == 0) // the trials are out: their verdict comes first
        return {false, std::max<std::int64_t>(1, std::min<std::int64_t>(open_time_ms(), 1000)), 0};
      --permits_left_;
      return {true, 0, generation_};
  }
  return {false, 1, 0};
}

void circuit_breaker::on_result(std::uint64_t generation, bool ok, config::error_kind kind,
                                std::int64_t duration_us, std::int64_t now_us,
                                std::vector<breaker_transition>& out) {
  if (generation != generation_
      || (state_ != breaker_state::closed && state_ != breaker_state::half_open))
    return; // permitted before the last transition, or not counting
  // A full stage refusing the call says nothing of the resource.
  if (!ok && (listed(spec_.ignore, kind) || kind == config::error_kind::circuit_open)) {
    if (state_ == breaker_state::half_open)
      ++permits_left_; // an ignored trial proves nothing: another may run
    return;
  }
  bool failed = !ok && listed(spec_.record, kind);
  bool slow = duration_us > static_cast<std::int64_t>(spec_.slow_call_ms) * 1000;
  record(failed, slow, now_us);
  judge(now_us, out);
}

void circuit_breaker::record(bool failed, bool slow, std::int64_t now_us) {
  if (state_ == breaker_state::closed && spec_.window == config::window_type::time) {
    auto second = now_us / 1000000;
    auto& b = ring_[static_cast<std::size_t>(second) % ring_.size()];
    if (b.second != second)
      b = bucket{second, 0, 0, 0};
    ++b.calls;
    b.failed += failed;
    b.slow += slow;
    return;
  }
  if (state_ == breaker_state::closed) { // count window: the last window_size calls
    auto& b = ring_[next_];
    count_calls_ -= b.calls;
    count_failed_ -= b.failed;
    count_slow_ -= b.slow;
    b = bucket{0, 1, failed, slow};
    next_ = (next_ + 1) % ring_.size();
  }
  ++count_calls_;
  count_failed_ += failed;
  count_slow_ += slow;
}

breaker_figures circuit_breaker::rates(std::uint32_t calls, std::uint32_t failed,
                                       std::uint32_t slow, std::uint32_t minimum) const {
  breaker_figures f{calls, failed, slow, -1, -1};
  if (calls > 0 && calls >= minimum) {
    f.failure_rate = 100.0 * failed / calls;
    f.slow_call_rate = 100.0 * slow / calls;
  }
  return f;
}

breaker_figures circuit_breaker::figures(std::int64_t now_us) const {
  if (state_ == breaker_state::closed && spec_.window == config::window_type::time) {
    auto now_s = now_us / 1000000;
    std::uint32_t calls = 0, failed = 0, slow = 0;
    for (auto& b : ring_)
      if (b.second > now_s - static_cast<std::int64_t>(spec_.window_size) && b.second <= now_s) {
        calls += b.calls;
        failed += b.failed;
        slow += b.slow;
      }
    return rates(calls, failed, slow, minimum_calls());
  }
  if (state_ == breaker_state::closed || state_ == breaker_state::half_open)
    return rates(count_calls_, count_failed_, count_slow_, minimum_calls());
  return {};
}

void circuit_breaker::judge(std::int64_t now_us, std::vector<breaker_transition>& out) {
  auto f = figures(now_us);
  if (state_ == breaker_state::half_open && count_calls_ < spec_.half_open_calls)
    return; // wait for every trial
  if (f.failure_rate < 0)
    return; // fewer calls than the minimum
  bool failing = f.failure_rate >= spec_.failure_rate_threshold;
  bool slow = f.slow_call_rate >= spec_.slow_call_rate_threshold;
  std::string why = failing ? "failure rate " + percent(f.failure_rate) + " >= "
                                + percent(spec_.failure_rate_threshold)
                            : "slow-call rate " + percent(f.slow_call_rate) + " >= "
                                + percent(spec_.slow_call_rate_threshold);
  why += " over " + std::to_string(f.calls) + " calls";
  if (failing || slow)
    move_to(breaker_state::open, now_us, why, out);
  else if (state_ == breaker_state::half_open)
    move_to(breaker_state::closed, now_us,
            "trial calls passed: failure rate " + percent(f.failure_rate) + ", slow-call rate "
              + percent(f.slow_call_rate) + " over " + std::to_string(f.calls) + " calls",
            out);
}

void circuit_breaker::move_to(breaker_state to, std::int64_t now_us, std::string reason,
                              std::vector<breaker_transition>& out) {
  breaker_transition t;
  t.from = state_;
  t.to = to;
  t.figures = figures(now_us);
  t.reason = std::move(reason);
  if (to == breaker_state::open) {
    if (state_ == breaker_state::half_open)
      ++reopens_;
    open_until_us_ = now_us + open_time_ms() * 1000;
    t.open_until_us = open_until_us_;
  } else {
    open_until_us_ = 0;
    if (to == breaker_state::closed)
      reopens_ = 0;
  }
  state_ = to;
  ++generation_;
  reset_window();
  permits_left_ = to == breaker_state::half_open ? spec_.half_open_calls : 0;
  out.push_back(std::move(t));
}

void circuit_breaker::tick(std::int64_t now_us, std::vector<breaker_transition>& out) {
  if (state_ == breaker_state::open && now_us >= open_until_us_)
    move_to(breaker_state::half_open, now_us, "its open time is up", out);
}

} // namespace nexus::runtime
