#include "runtime/simulate.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include "config/json_writer.hpp"

namespace nexus::runtime {

std::uint64_t stable_hash(std::string_view s, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::uint64_t burn_cpu(std::uint64_t ms, std::uint64_t seed) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::uint64_t x = seed;
  do {
    for (int i = 0; i < 4096; ++i) // a few microseconds between clock reads
      x = (x ^ (x >> 31)) * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(i);
  } while (std::chrono::steady_clock::now() < until);
  return x;
}

double unit_from(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<double>(x >> 11) * (1.0 / 9007199254740992.0);
}

outcome simulate(const config::simulate_action& a, std::string_view cid, std::string_view step,
                 std::uint32_t attempt, bool compensate) {
  if (attempt <= a.fail_first)
    return outcome::failure(a.fail_kind, "simulated failure of attempt " + std::to_string(attempt)
                                           + " (fail_first " + std::to_string(a.fail_first) + ")");
  auto h = stable_hash(cid, a.seed);
  h = stable_hash(step, h);
  h = stable_hash(compensate ? "c" : "a", h) ^ (static_cast<std::uint64_t>(attempt) << 32);
  if (a.fail_rate > 0 && unit_from(h) < a.fail_rate)
    return outcome::failure(a.fail_kind, "simulated failure (fail_rate)");
  std::string out;
  config::json_object_writer w{out};
  char ref[20];
  std::snprintf(ref, sizeof(ref), "%016llx", static_cast<unsigned long long>(h));
  w.field(compensate ? "undone" : "done", step)
    .field("attempt", static_cast<std::uint64_t>(attempt))
    .field("ref", std::string_view{ref});
  w.finish();
  return outcome::success(std::move(out));
}

} // namespace nexus::runtime
