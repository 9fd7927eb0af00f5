#pragma once

#include <cstdint>
#include <ctime>

namespace herald::bench {

// CLOCK_MONOTONIC in nanoseconds. Publishers stamp messages with it and
// receivers subtract it from their own reading, so sender and receiver must
// share one clock: the bench and the server run on the same host.
inline std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

inline double ns_to_s(std::int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

inline std::int64_t s_to_ns(double s) {
  return static_cast<std::int64_t>(s * 1e9);
}

}  // namespace herald::bench
