#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "herald/core/dashboard.hpp"

namespace herald::net {

// The dashboard's keys and the token endpoint's attempt limit, shared by
// every I/O thread; exists only with `dashboard = true`.
class dashboard_access {
 public:
  explicit dashboard_access(std::string_view password)
      : keys_(password), attempts_(max_failures, std::chrono::minutes{1}, max_addresses) {}

  const core::dashboard_keys& keys() const { return keys_; }

  bool may_try(const std::string& address) {
    const std::lock_guard lock(mutex_);
    return attempts_.allowed(address, core::attempt_limiter::clock::now());
  }

  void failed(const std::string& address) {
    const std::lock_guard lock(mutex_);
    attempts_.failed(address, core::attempt_limiter::clock::now());
  }

 private:
  // Five wrong passwords a minute per address; 4096 addresses tracked.
  static constexpr std::uint32_t max_failures = 5;
  static constexpr std::size_t max_addresses = 4096;

  core::dashboard_keys keys_;
  std::mutex mutex_;
  core::attempt_limiter attempts_;
};

}  // namespace herald::net
