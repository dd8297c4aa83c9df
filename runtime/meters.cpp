#include "runtime/meters.hpp"

#include <algorithm>

#include "runtime/outcome.hpp"

namespace nexus::runtime {

constexpr auto relaxed = std::memory_order_relaxed;

histogram_meter::histogram_meter(std::vector<std::int64_t> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    counts_[i].store(0, relaxed);
}

void histogram_meter::observe(std::int64_t value) {
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[static_cast<std::size_t>(i)].fetch_add(1, relaxed);
  sum_.fetch_add(value, relaxed);
}

std::vector<std::uint64_t> histogram_meter::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = counts_[i].load(relaxed);
  return out;
}

std::uint64_t histogram_meter::count() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    n += counts_[i].load(relaxed);
  return n;
}

std::vector<std::int64_t> histogram_meter::duration_bounds() {
  return {500,       1'000,     2'500,     5'000,      10'000,     25'000,      50'000,
          100'000,   250'000,   500'000,   1'000'000,  2'500'000,  5'000'000,   10'000'000,
          30'000'000, 60'000'000, 300'000'000};
}

std::size_t outcome_index(const outcome& o) {
  return o.ok ? 0 : 1 + static_cast<std::size_t>(o.kind);
}

const char* outcome_name(std::size_t index) {
  static const char* names[outcome_kinds] = {"succeeded", "transient", "permanent",
                                             "timeout",   "circuit_open", "cancelled"};
  return index < outcome_kinds ? names[index] : "unknown";
}

void step_meters::attempt_ended(bool compensation, const outcome& o) {
  attempts[compensation ? 1 : 0][outcome_index(o)].fetch_add(1, relaxed);
}

void saga_meters::ended(storage::saga_status status, std::int64_t took_us) {
  std::size_t i = 0;
  switch (status) {
    case storage::saga_status::completed: i = 0; break;
    case storage::saga_status::compensated: i = 1; break;
    case storage::saga_status::failed: i = 2; break;
    case storage::saga_status::cancelled: i = 3; break;
    default: return; // not an end
  }
  duration[i].observe(std::max<std::int64_t>(took_us, 0));
}

const char* saga_meters::status_name(std::size_t index) {
  static const char* names[statuses] = {"completed", "compensated", "failed", "cancelled"};
  return index < statuses ? names[index] : "unknown";
}

const char* breaker_meters::state_name(std::size_t index) {
  static const char* names[states] = {"open", "half_open", "closed"};
  return index < states ? names[index] : "unknown";
}

namespace {

template <class Map, class Key>
auto& find_or_add(std::mutex& lock, Map& map, Key&& key) {
  std::lock_guard<std::mutex> hold{lock};
  auto& slot = map[std::forward<Key>(key)];
  if (!slot)
    slot = std::make_unique<typename Map::mapped_type::element_type>();
  return *slot;
}

} // namespace

step_meters& meter_board::step(const std::string& saga, const std::string& step) {
  return find_or_add(lock_, steps_, std::make_pair(saga, step));
}

saga_meters& meter_board::saga(const std::string& saga) {
  return find_or_add(lock_, sagas_, saga);
}

breaker_meters& meter_board::breaker(const std::string& resource) {
  return find_or_add(lock_, breakers_, resource);
}

void meter_board::for_each_step(
  const std::function<void(const std::string&, const std::string&, const step_meters&)>& visit) const {
  std::lock_guard<std::mutex> hold{lock_};
  for (auto& [key, m] : steps_)
    visit(key.first, key.second, *m);
}

void meter_board::for_each_saga(
  const std::function<void(const std::string&, const saga_meters&)>& visit) const {
  std::lock_guard<std::mutex> hold{lock_};
  for (auto& [name, m] : sagas_)
    visit(name, *m);
}

void meter_board::for_each_breaker(
  const std::function<void(const std::string&, const breaker_meters&)>& visit) const {
  std::lock_guard<std::mutex> hold{lock_};
  for (auto& [name, m] : breakers_)
    visit(name, *m);
}

} // namespace nexus::runtime
