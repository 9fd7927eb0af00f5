#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "dashboard_access.hpp"
#include "herald/actors/hub.hpp"
#include "herald/core/address_limits.hpp"
#include "herald/core/metrics.hpp"
#include "herald/core/settings.hpp"
#include "herald/core/token_verifier.hpp"
#include "inflating_input.hpp"
#include "per_thread_counter.hpp"
#include "session_registry.hpp"

namespace herald::net {

// Counters shared by all sessions; relaxed atomics, read by /metrics.
struct server_counters {
  std::atomic<std::uint64_t> accepted_tcp{0};
  std::atomic<std::uint64_t> http_connections{0};  // http_session objects alive
  std::array<std::atomic<std::uint64_t>, core::refusal_count> refused{};

  void count(core::refusal why) {
    refused[core::index_of(why)].fetch_add(1, std::memory_order_relaxed);
  }
  struct per_protocol {
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> compressed{0};  // of those, with permessage-deflate
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> slow_disconnects{0};
  };
  std::array<per_protocol, core::protocol_count> by_protocol{};
  std::atomic<std::uint64_t> api_requests{0};
  // Added to per read and per write: one cache line per I/O thread.
  per_thread_counter bytes_in;
  per_thread_counter bytes_out;
  std::array<std::atomic<std::uint64_t>, core::close_code_slots> disconnects{};
};

// The per-address limits (max-connections-per-ip, connection-rate-per-ip),
// shared by every I/O thread.
class address_gate {
 public:
  explicit address_gate(const core::settings& settings)
      : limits_(settings.max_connections_per_ip, settings.connection_rate_per_ip) {}

  bool enabled() const { return limits_.enabled(); }

  core::address_limits::verdict admit(const std::string& address) {
    const std::lock_guard lock(mutex_);
    return limits_.admit(address, core::address_limits::clock::now());
  }

  void release(const std::string& address) {
    const std::lock_guard lock(mutex_);
    limits_.release(address, core::address_limits::clock::now());
  }

 private:
  std::mutex mutex_;
  core::address_limits limits_;
};

// What every session needs to know about the server; outlives all of them.
struct server_context {
  const core::settings& settings;
  std::filesystem::path static_root;  // canonical
  actors::hub& hub;
  session_registry sessions;
  server_counters counters;
  std::atomic<bool> draining{false};
  core::token_verifier tokens{settings.token_hmac_secret};
  address_gate addresses{settings};
  // Bytes of publications sessions have handed to the broadcaster and it
  // has not yet acknowledged (publish-backlog-bytes bounds it).
  std::atomic<std::uint64_t> publish_backlog_bytes{0};
  // With `dashboard = true` only.
  std::unique_ptr<dashboard_access> dashboard{};
  // What connections that negotiated permessage-deflate read with (set
  // once, before the first connection).
  inflating_input::config inflating{};
};

}  // namespace herald::net
