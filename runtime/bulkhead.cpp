#include "runtime/bulkhead.hpp"

#include <algorithm>
#include <cmath>

namespace nexus::runtime {

bulkhead::bulkhead(std::uint32_t workers, std::uint32_t bound, std::int64_t min_retry_after_ms)
  : workers_(std::max<std::uint32_t>(1, workers)),
    bound_(std::max<std::uint32_t>(1, bound)),
    min_retry_after_ms_(std::max<std::int64_t>(1, min_retry_after_ms)) {}

bulkhead::decision bulkhead::admit(std::size_t idle, std::size_t queued) const {
  if (idle > 0)
    return {admission::run, 0};
  if (queued < bound_)
    return {admission::wait, 0};
  // About the time the calls ahead need, spread over the workers.
  auto wait = call_ms_ * static_cast<double>(queued) / static_cast<double>(workers_);
  return {admission::refuse, std::max<std::int64_t>(min_retry_after_ms_, std::llround(wait))};
}

void bulkhead::set_workers(std::uint32_t workers) {
  workers_ = std::max<std::uint32_t>(1, workers);
}

void bulkhead::took(double ms) {
  call_ms_ = 0.9 * call_ms_ + 0.1 * ms;
}

std::optional<bool> bulkhead::pressure(std::size_t queued) {
  if (!pressing_ && queued >= bound_)
    pressing_ = true;
  else if (pressing_ && queued <= bound_ / 2)
    pressing_ = false;
  else
    return std::nullopt;
  return pressing_;
}

std::string bulkhead::refusal(const std::string& stage, std::size_t queued) const {
  return "stage " + stage + " is full: " + std::to_string(queued) + " calls wait for its "
         + std::to_string(workers_) + " workers";
}

} // namespace nexus::runtime
