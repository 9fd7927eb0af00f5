#pragma once

// How lines that a client can cause are kept from flooding the log: each
// kind of line has a token bucket, and a line that finds it empty is
// dropped and counted (herald_log_lines_dropped_total); the next line of
// that kind that goes out says how many before it were dropped.

#include <chrono>
#include <cstdint>
#include <mutex>

namespace herald::log {

// A token bucket: `per_second` tokens a second, at most `burst` held,
// full at first. Not thread-safe; time is the caller's, so that tests
// control it.
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket(double per_second, double burst);

  // Takes a token if there is one.
  bool take(clock::time_point now);

 private:
  double per_second_;
  double burst_;
  double tokens_;
  clock::time_point last_{};
  bool started_ = false;
};

// The budget of one kind of line: 10 lines a second in bursts of 20 unless
// told otherwise. A flood of one kind (say, refused origins) does not use up
// the budget of another (say, slow clients). Thread-safe.
class line_limit {
 public:
  static constexpr double default_per_second = 10;
  static constexpr double default_burst = 20;

  explicit line_limit(double per_second = default_per_second, double burst = default_burst);

  // Whether a line may go out at `now`. When it may, `dropped_before` is how
  // many of this kind were dropped since the last one that went out; when
  // it may not, the drop is counted here and in lines_dropped().
  bool admit(token_bucket::clock::time_point now, std::uint64_t& dropped_before);
  bool admit(std::uint64_t& dropped_before) {
    return admit(token_bucket::clock::now(), dropped_before);
  }

 private:
  std::mutex mutex_;
  token_bucket bucket_;
  std::uint64_t dropped_ = 0;
};

}  // namespace herald::log
