#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace herald::core {

// Close codes that /metrics counts one by one; anything else is "other".
inline constexpr std::array<std::uint16_t, 8> counted_close_codes{1000, 1001, 1002, 1003,
                                                                  1006, 1007, 1008, 1009};
inline constexpr std::size_t close_code_slots = counted_close_codes.size() + 1;

// Index of `code` in counted_close_codes, or the last slot for others.
std::size_t close_code_slot(std::uint16_t code);

// A point-in-time copy of every figure /metrics reports.
struct metrics_snapshot {
  std::uint64_t websocket_connections = 0;
  std::uint64_t websocket_accepted = 0;
  std::uint64_t tcp_accepted = 0;
  std::uint64_t publications = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t slow_disconnects = 0;
  std::array<std::uint64_t, close_code_slots> disconnects{};
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t channels = 0;
  double cpu_seconds = 0;
  std::uint64_t resident_bytes = 0;
};

// The process's CPU time (user + system) and resident set, from /proc/self.
void read_process_stats(metrics_snapshot& out);

// Prometheus text exposition format, version 0.0.4.
std::string render_prometheus(const metrics_snapshot& m);

}  // namespace herald::core
