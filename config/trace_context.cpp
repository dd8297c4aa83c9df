#include "config/trace_context.hpp"

#include <random>

namespace nexus::config {

namespace {

constexpr char digits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1; // the spec allows lower case only
}

/// Reads `hex` (2 * n digits) into `out`; false if a digit is not one.
bool read_hex(std::string_view hex, std::uint8_t* out, std::size_t n) {
  if (hex.size() != 2 * n)
    return false;
  for (std::size_t i = 0; i < n; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

void write_hex(const std::uint8_t* in, std::size_t n, std::string& out) {
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[in[i] >> 4];
    out += digits[in[i] & 0xf];
  }
}

std::mt19937_64& generator() {
  thread_local std::mt19937_64 g{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  return g;
}

} // namespace

bool trace_context::valid() const {
  for (auto b : trace)
    if (b != 0)
      return true;
  return false;
}

std::string trace_context::trace_hex() const {
  std::string out;
  out.reserve(32);
  write_hex(trace.data(), trace.size(), out);
  return out;
}

std::string trace_context::traceparent(std::uint64_t child) const {
  std::string out = "00-";
  out.reserve(55);
  write_hex(trace.data(), trace.size(), out);
  out += '-';
  out += span_hex(child);
  out += '-';
  write_hex(&flags, 1, out);
  return out;
}

std::string span_hex(std::uint64_t span) {
  if (span == 0)
    return {};
  std::uint8_t bytes[8];
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<std::uint8_t>(span >> (56 - 8 * i));
  std::string out;
  out.reserve(16);
  write_hex(bytes, 8, out);
  return out;
}

std::optional<std::uint64_t> parse_span_id(std::string_view hex) {
  std::uint8_t bytes[8];
  if (!read_hex(hex, bytes, 8))
    return std::nullopt;
  std::uint64_t span = 0;
  for (auto b : bytes)
    span = span << 8 | b;
  if (span == 0)
    return std::nullopt;
  return span;
}

std::optional<std::array<std::uint8_t, 16>> parse_trace_id(std::string_view hex) {
  trace_context t;
  if (!read_hex(hex, t.trace.data(), 16) || !t.valid())
    return std::nullopt;
  return t.trace;
}

std::optional<trace_context> parse_traceparent(std::string_view value) {
  // version "-" trace-id "-" parent-id "-" trace-flags
  if (value.size() < 55 || value[2] != '-' || value[35] != '-' || value[52] != '-')
    return std::nullopt;
  std::uint8_t version = 0;
  if (!read_hex(value.substr(0, 2), &version, 1) || version == 0xff)
    return std::nullopt;
  if (version == 0 ? value.size() != 55 : value.size() > 55 && value[55] != '-')
    return std::nullopt;
  trace_context t;
  auto trace = parse_trace_id(value.substr(3, 32));
  auto span = parse_span_id(value.substr(36, 16));
  if (!trace || !span || !read_hex(value.substr(53, 2), &t.flags, 1))
    return std::nullopt;
  t.trace = *trace;
  t.span = *span;
  return t;
}

bool valid_tracestate(std::string_view value) {
  if (value.size() > 512)
    return false;
  for (char c : value)
    if (c < 0x20 || c > 0x7e)
      return false;
  return true;
}

std::uint64_t attempt_span(std::uint64_t saga_span, std::string_view step, std::uint32_t attempt,
                           bool compensation) {
  // FNV-1a over the step's name, seeded with the rest, then a finalizer
  // (splitmix64's) so that neighbouring attempts differ in every bit.
  std::uint64_t h = 0xcbf29ce484222325ull ^ saga_span;
  for (unsigned char c : step)
    h = (h ^ c) * 0x100000001b3ull;
  h ^= (static_cast<std::uint64_t>(attempt) << 1) | (compensation ? 1 : 0);
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h == 0 ? 1 : h;
}

std::uint64_t new_span_id() {
  std::uint64_t id = 0;
  while (id == 0)
    id = generator()();
  return id;
}

std::array<std::uint8_t, 16> trace_id_of(std::uint64_t hi, std::uint64_t lo) {
  std::array<std::uint8_t, 16> id{};
  for (int i = 0; i < 8; ++i) {
    id[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    id[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  return id;
}

void halves_of(const std::array<std::uint8_t, 16>& id, std::uint64_t& hi, std::uint64_t& lo) {
  hi = lo = 0;
  for (int i = 0; i < 8; ++i) {
    hi = hi << 8 | id[i];
    lo = lo << 8 | id[8 + i];
  }
}

std::array<std::uint8_t, 16> new_trace_id() {
  trace_context t;
  while (!t.valid())
    t.trace = trace_id_of(generator()(), generator()());
  return t.trace;
}

} // namespace nexus::config
