#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace herald::core {

// Per client address: how many WebSocket connections it holds at once, and
// how fast it may open new ones (a token bucket: `rate_per_second` tokens a
// second, holding as many). Centrifugo has both (client_connection_limit
// per user and connection rate limits); here they apply per IP address,
// before the upgrade. Pure and single-threaded: the server guards one with a
// mutex.
class address_limits {
 public:
  using clock = std::chrono::steady_clock;
  enum class verdict { admitted, too_many, too_fast };

  // 0 turns either limit off.
  address_limits(std::uint64_t max_per_address, std::uint64_t rate_per_second)
      : max_per_address_(max_per_address), rate_per_second_(rate_per_second) {}

  bool enabled() const { return max_per_address_ > 0 || rate_per_second_ > 0; }

  // A connection from `address` asks in at `now`: admitted (and counted
  // until release()), or refused by one of the limits.
  verdict admit(const std::string& address, clock::time_point now);

  // A connection admitted from `address` has ended.
  void release(const std::string& address, clock::time_point now);

  // Addresses remembered: those holding connections, and those whose bucket
  // is still refilling (forgetting them would lift their rate limit).
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct entry {
    std::uint64_t connections = 0;
    double tokens = 0;
    clock::time_point refilled{};
  };

  void refill(entry& e, clock::time_point now) const;
  bool forgettable(const entry& e) const;
  // Drops what no longer needs remembering, every so many admissions, so
  // that addresses that came once do not accumulate.
  void prune(clock::time_point now);

  std::uint64_t max_per_address_;
  std::uint64_t rate_per_second_;
  std::unordered_map<std::string, entry> entries_;
  std::uint64_t admissions_since_prune_ = 0;
};

}  // namespace herald::core
