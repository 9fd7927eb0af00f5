#pragma once

#include <atomic>
#include <cstdint>

namespace herald::actors {

// The broadcaster's figures for /metrics, readable from any thread. The
// broadcaster is the only writer: it counts in plain integers and publishes
// them with relaxed stores, so the fan-out loop pays no atomic
// read-modify-write.
struct broadcast_counters {
  std::atomic<std::uint64_t> channels{0};
  std::atomic<std::uint64_t> subscriptions{0};      // (channel, connection) pairs
  std::atomic<std::uint64_t> history_channels{0};   // channels with a history position
  std::atomic<std::uint64_t> history_evictions{0};  // forgotten for history-max-channels
  std::atomic<std::uint64_t> publications{0};
  std::atomic<std::uint64_t> deliveries{0};
};

}  // namespace herald::actors
