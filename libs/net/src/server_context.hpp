#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>

#include "herald/actors/hub.hpp"
#include "herald/core/metrics.hpp"
#include "herald/core/settings.hpp"
#include "herald/core/token_verifier.hpp"
#include "session_registry.hpp"

namespace herald::net {

// Counters shared by all sessions; relaxed atomics, read by /metrics.
struct server_counters {
  std::atomic<std::uint64_t> accepted_tcp{0};
  struct per_protocol {
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> slow_disconnects{0};
  };
  std::array<per_protocol, core::protocol_count> by_protocol{};
  std::atomic<std::uint64_t> api_requests{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::array<std::atomic<std::uint64_t>, core::close_code_slots> disconnects{};
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
};

}  // namespace herald::net
