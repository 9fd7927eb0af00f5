#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "herald/core/metrics.hpp"

namespace herald::core {

// What a node publishes on the dashboard's stats channel once a second
// (docs/protocol.md, "Dashboard"): its name, the time, the connections
// open per protocol, per-second rates over the last interval and the
// running totals they come from, CPU (seconds per second: 1.0 is one core
// busy), resident memory and the engine's state ("memory", "up", "down").
// `previous` and `current` are two snapshots `elapsed_seconds` apart; with
// no time between them every rate is 0. Figures only: no setting, no
// address, no channel name beyond the counts.
std::string encode_stats_document(std::string_view node, std::int64_t unix_ms,
                                  const metrics_snapshot& previous, const metrics_snapshot& current,
                                  double elapsed_seconds);

// "memory" (one node), "up" (every Redis shard answers) or "down".
std::string_view engine_state(const metrics_snapshot& m);

}  // namespace herald::core
