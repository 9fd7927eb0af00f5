#include "latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace herald::bench {

int latency_histogram::bucket_of(std::uint64_t value) {
  if (value < static_cast<std::uint64_t>(sub_buckets)) {
    return static_cast<int>(value);  // small values are exact
  }
  int top_bit = 63 - __builtin_clzll(value);
  if (top_bit > highest_bit) {
    return bucket_count - 1;
  }
  // The 6 bits below the top bit pick the sub-bucket inside [2^top, 2^(top+1)).
  int shift = top_bit - sub_bucket_bits;
  int mantissa = static_cast<int>(value >> shift) - sub_buckets;
  return sub_buckets + shift * sub_buckets + mantissa;
}

std::int64_t latency_histogram::bucket_midpoint(int bucket) {
  if (bucket < sub_buckets) {
    return bucket;
  }
  int shift = (bucket - sub_buckets) / sub_buckets;
  int mantissa = (bucket - sub_buckets) % sub_buckets;
  std::int64_t lower = static_cast<std::int64_t>(sub_buckets + mantissa) << shift;
  std::int64_t width = std::int64_t{1} << shift;
  return lower + width / 2;
}

void latency_histogram::record(std::int64_t value_ns) {
  // A negative latency can only come from a stamp of another clock; count
  // it as zero rather than corrupting the index.
  std::uint64_t value = value_ns < 0 ? 0 : static_cast<std::uint64_t>(value_ns);
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += static_cast<long double>(value);
  max_ = std::max(max_, static_cast<std::int64_t>(value));
}

void latency_histogram::reset() {
  counts_.fill(0);
  count_ = 0;
  max_ = 0;
  sum_ = 0;
}

void latency_histogram::merge(const latency_histogram& other) {
  for (int bucket = 0; bucket < bucket_count; ++bucket) {
    counts_[bucket] += other.counts_[bucket];
  }
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

double latency_histogram::mean_ns() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

std::int64_t latency_histogram::percentile_ns(double percentile) const {
  if (count_ == 0) {
    return 0;
  }
  // The rank of the sample at this percentile, 1-based: p99 of 1000 samples
  // is the 990th smallest.
  auto rank = static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * count_));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  if (rank == count_) {
    return max_;  // the largest sample is known exactly
  }
  std::uint64_t seen = 0;
  for (int bucket = 0; bucket < bucket_count; ++bucket) {
    seen += counts_[bucket];
    if (seen >= rank) {
      // A midpoint above the largest sample would report a value never seen.
      return std::min(bucket_midpoint(bucket), max_);
    }
  }
  return max_;
}

}  // namespace herald::bench
