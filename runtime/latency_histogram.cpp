#include "runtime/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace nexus::runtime {

namespace {

constexpr int sub_bits = 6;                    // 64 buckets per power of two
constexpr std::uint64_t exact = 2u << sub_bits; // values under 128 have their own bucket

} // namespace

std::size_t latency_histogram::bucket_of(std::uint64_t us) {
  if (us < exact)
    return static_cast<std::size_t>(us);
  int msb = 63 - __builtin_clzll(us); // >= sub_bits + 1
  int shift = msb - sub_bits;
  auto mantissa = us >> shift;         // in [64, 128)
  return exact + static_cast<std::size_t>(shift - 1) * (1u << sub_bits)
         + static_cast<std::size_t>(mantissa - (1u << sub_bits));
}

std::uint64_t latency_histogram::value_of(std::size_t bucket) {
  if (bucket < exact)
    return bucket;
  auto i = bucket - exact;
  int shift = static_cast<int>(i >> sub_bits) + 1;
  auto mantissa = (i & ((1u << sub_bits) - 1)) + (1u << sub_bits);
  auto low = static_cast<std::uint64_t>(mantissa) << shift;
  return low + ((std::uint64_t{1} << shift) - 1) / 2; // the bucket's middle
}

void latency_histogram::record(std::uint64_t us) {
  auto b = bucket_of(us);
  if (b >= buckets_.size())
    buckets_.resize(b + 1);
  ++buckets_[b];
  ++count_;
  max_ = std::max(max_, us);
}

std::uint64_t latency_histogram::quantile(double q) const {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank)
      return std::min(value_of(b), max_);
  }
  return max_;
}

} // namespace nexus::runtime
