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
  std::atomic<std::uint64_t> rounds{0};  // fan-out rounds sent
  // The Redis engine (engine = redis); all zero with the memory engine.
  std::atomic<bool> engine_shared{false};
  std::atomic<bool> engine_up{false};  // every shard answers
  std::atomic<std::uint64_t> engine_reconnects{0};
  std::atomic<std::uint64_t> engine_publish_errors{0};  // publications Redis did not take
  std::atomic<std::uint64_t> engine_commands{0};        // commands sent, pipelined
  std::atomic<std::uint64_t> engine_writes{0};          // socket writes that carried them
  std::atomic<std::uint64_t> engine_round_trip_us{0};   // the last command's round trip
  std::atomic<std::uint64_t> engine_interruptions{0};   // channels interrupted in Redis
};

}  // namespace herald::actors
