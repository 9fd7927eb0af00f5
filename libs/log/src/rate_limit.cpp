#include "herald/log/rate_limit.hpp"

#include <algorithm>

#include "dropped_lines.hpp"

namespace herald::log {

token_bucket::token_bucket(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(1.0, burst)), tokens_(burst_) {}

bool token_bucket::take(clock::time_point now) {
  if (started_ && now > last_) {
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * per_second_);
  }
  // Time that goes backwards (two threads' clocks read in either order)
  // adds nothing and takes nothing away.
  if (!started_ || now > last_) {
    last_ = now;
    started_ = true;
  }
  if (tokens_ < 1.0) {
    return false;
  }
  tokens_ -= 1.0;
  return true;
}

line_limit::line_limit(double per_second, double burst) : bucket_(per_second, burst) {}

bool line_limit::admit(token_bucket::clock::time_point now, std::uint64_t& dropped_before) {
  const std::lock_guard lock(mutex_);
  if (!bucket_.take(now)) {
    ++dropped_;
    count_dropped_line();
    return false;
  }
  dropped_before = dropped_;
  dropped_ = 0;
  return true;
}

}  // namespace herald::log
