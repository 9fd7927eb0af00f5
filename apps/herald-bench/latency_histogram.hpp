#pragma once

#include <array>
#include <cstdint>

namespace herald::bench {

// A log-linear histogram of nanosecond values in the spirit of HdrHistogram:
// every power of two is split into 64 equal buckets, so a bucket is at most
// 1/64 (1.6%) of its values wide and a reported percentile, the bucket's
// midpoint, is within 0.8% of a true sample. Values up to 2^36 ns (68 s) fit;
// larger ones land in the last bucket, and the exact maximum is kept apart.
// Recording is an index computation and an increment: no allocation, no
// sorting, 16 KiB of counters whatever the number of samples.
class latency_histogram {
 public:
  void record(std::int64_t value_ns);
  void reset();
  // Adds every sample of `other` (another thread's histogram).
  void merge(const latency_histogram& other);

  std::uint64_t count() const { return count_; }
  std::int64_t max_ns() const { return max_; }
  double mean_ns() const;
  // `percentile` in [0, 100]; 0 with no samples.
  std::int64_t percentile_ns(double percentile) const;

 private:
  static constexpr int sub_bucket_bits = 6;
  static constexpr int sub_buckets = 1 << sub_bucket_bits;
  static constexpr int highest_bit = 35;
  static constexpr int bucket_count =
      sub_buckets + (highest_bit - sub_bucket_bits + 1) * sub_buckets;

  static int bucket_of(std::uint64_t value);
  static std::int64_t bucket_midpoint(int bucket);

  std::array<std::uint64_t, bucket_count> counts_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace herald::bench
