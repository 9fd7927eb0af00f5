#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "herald/actors/broadcast_counters.hpp"
#include "herald/core/channel_options.hpp"
#include "herald/redis/redis_engine.hpp"

// No CAF header: the transport's hub.hpp includes this.
namespace herald::actors {

struct broadcaster_config {
  // The options of every channel (history, presence, permissions).
  std::shared_ptr<const core::channel_namespaces> namespaces =
      std::make_shared<const core::channel_namespaces>();
  // A channel's history position (epoch, offset) is forgotten this long
  // after its last use; 0: kept for the process's life.
  std::chrono::seconds history_meta_ttl{0};
  // At most this many channels keep a history position; a new one forgets
  // the least recently used. 0: no limit.
  std::size_t history_max_channels = 0;
  // At most this many rounds are being written at once (round_ticket); the
  // server passes its I/O thread count. At least 1.
  unsigned max_rounds_in_flight = 1;
  // Set: channels live in Redis, shared with every node on it (engine =
  // redis); unset: in this node's memory.
  std::optional<redis::engine_settings> redis;
  // How the server API's info names this node.
  std::string node_name = "herald";
  // Where the broadcaster publishes its figures for /metrics.
  std::shared_ptr<broadcast_counters> counters = std::make_shared<broadcast_counters>();
};

}  // namespace herald::actors
