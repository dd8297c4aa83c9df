#pragma once

#include <cstdint>
#include <vector>

namespace nexus::runtime {

/// Latencies in microseconds, counted in log-linear buckets (as
/// HdrHistogram does): exact below 128 us, and within 1/64 (1.6 %) of the
/// true value above. Memory is bounded (at most about 30 KiB), however many
/// values are recorded.
class latency_histogram {
public:
  void record(std::uint64_t us);

  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }

  /// The value at quantile `q` (0 < q <= 1): the smallest recorded value
  /// (within the bucket's precision) that at least `q` of all values do not
  /// exceed. 0 when nothing was recorded.
  std::uint64_t quantile(double q) const;

private:
  static std::size_t bucket_of(std::uint64_t us);
  static std::uint64_t value_of(std::size_t bucket);

  std::vector<std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace nexus::runtime
