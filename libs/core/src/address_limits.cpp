#include "herald/core/address_limits.hpp"

#include <algorithm>

namespace herald::core {
namespace {

// Addresses are pruned after this many admissions: often enough to bound
// the table by the addresses seen in about one refill period, seldom enough
// to cost nothing per connection.
constexpr std::uint64_t prune_every = 1024;

}  // namespace

void address_limits::refill(entry& e, clock::time_point now) const {
  if (rate_per_second_ == 0) {
    return;
  }
  const double burst = static_cast<double>(rate_per_second_);
  const std::chrono::duration<double> elapsed = now - e.refilled;
  e.tokens = std::min(burst, e.tokens + elapsed.count() * burst);
  e.refilled = now;
}

bool address_limits::forgettable(const entry& e) const {
  return e.connections == 0 &&
         (rate_per_second_ == 0 || e.tokens >= static_cast<double>(rate_per_second_));
}

address_limits::verdict address_limits::admit(const std::string& address, clock::time_point now) {
  if (!enabled()) {
    return verdict::admitted;
  }
  if (++admissions_since_prune_ >= prune_every) {
    prune(now);
  }
  auto [it, inserted] = entries_.try_emplace(address);
  entry& e = it->second;
  if (inserted) {
    e.tokens = static_cast<double>(rate_per_second_);  // a new address starts with a full bucket
    e.refilled = now;
  }
  refill(e, now);
  if (max_per_address_ > 0 && e.connections >= max_per_address_) {
    return verdict::too_many;
  }
  if (rate_per_second_ > 0) {
    if (e.tokens < 1.0) {
      return verdict::too_fast;
    }
    e.tokens -= 1.0;
  }
  ++e.connections;
  return verdict::admitted;
}

void address_limits::release(const std::string& address, clock::time_point now) {
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    return;
  }
  entry& e = it->second;
  if (e.connections > 0) {
    --e.connections;
  }
  refill(e, now);
  if (forgettable(e)) {
    entries_.erase(it);
  }
}

void address_limits::prune(clock::time_point now) {
  admissions_since_prune_ = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    refill(it->second, now);
    it = forgettable(it->second) ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace herald::core
