#pragma once

#include <cstdint>
#include <string_view>

#include "config/workflow.hpp"
#include "runtime/outcome.hpp"

namespace nexus::runtime {

/// The outcome of one attempt of a simulated action. Deterministic: the same
/// seed, correlation ID, step, attempt and direction give the same outcome on
/// every run and every machine. The latency is the caller's to apply.
outcome simulate(const config::simulate_action& a, std::string_view cid, std::string_view step,
                 std::uint32_t attempt, bool compensate);

/// Keeps the calling thread busy computing for `ms` milliseconds of wall
/// time: a simulated step's CPU-bound work. Returns what it computed, so
/// that the work cannot be optimised away.
std::uint64_t burn_cpu(std::uint64_t ms, std::uint64_t seed);

/// 64-bit FNV-1a, stable across platforms (std::hash is not).
std::uint64_t stable_hash(std::string_view s, std::uint64_t seed = 0);

/// A uniform sample in [0, 1) from a 64-bit value (splitmix64 finaliser).
double unit_from(std::uint64_t x);

} // namespace nexus::runtime
