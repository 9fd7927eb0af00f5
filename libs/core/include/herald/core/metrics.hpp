#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::core {

// Close codes that /metrics counts one by one; anything else is "other":
// the WebSocket codes /ws ends with, and Centrifugo's disconnect codes of
// the client protocol (3001 shutdown, 3005 expired, 3008 slow, 3012 no
// pong, 3500 invalid token, 3501 bad request, 3502 stale, 3503 forced).
inline constexpr std::array<std::uint16_t, 16> counted_close_codes{
    1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 3001, 3005, 3008, 3012, 3500, 3501, 3502, 3503};
inline constexpr std::size_t close_code_slots = counted_close_codes.size() + 1;

// Index of `code` in counted_close_codes, or the last slot for others.
std::size_t close_code_slot(std::uint16_t code);

// The WebSocket endpoints, for per-protocol figures: /ws and
// /connection/websocket.
enum class protocol : std::size_t { ws, centrifuge };
inline constexpr std::size_t protocol_count = 2;
inline constexpr std::array<std::string_view, protocol_count> protocol_names{"ws", "centrifuge"};

constexpr std::size_t index_of(protocol p) {
  return static_cast<std::size_t>(p);
}

// Why the server turned a connection or an upgrade away before serving it.
enum class refusal : std::size_t {
  http_connections,    // max-http-connections reached: 503, closed
  bad_websocket_key,   // Sec-WebSocket-Key is not base64 of 16 bytes: 400
  origin,              // allowed-origins: 403
  draining,            // shutting down: 503
  connections,         // max-connections: 503
  connections_per_ip,  // max-connections-per-ip: 503
  rate_per_ip,         // connection-rate-per-ip: 429
  api_key,             // the server API's key (401) or loopback rule (403), from the headers
  tls_handshake,       // a TLS handshake failed or timed out: closed
};
inline constexpr std::size_t refusal_count = 9;
inline constexpr std::array<std::string_view, refusal_count> refusal_names{
    "http_connections",   "bad_websocket_key", "origin",  "draining",     "connections",
    "connections_per_ip", "rate_per_ip",       "api_key", "tls_handshake"};

constexpr std::size_t index_of(refusal r) {
  return static_cast<std::size_t>(r);
}

struct protocol_figures {
  std::uint64_t connections = 0;       // open now
  std::uint64_t compressed = 0;        // of those, with permessage-deflate
  std::uint64_t accepted = 0;          // handshakes completed
  std::uint64_t slow_disconnects = 0;  // cut for falling behind
};

// A point-in-time copy of every figure /metrics reports.
struct metrics_snapshot {
  std::array<protocol_figures, protocol_count> by_protocol{};
  std::uint64_t tcp_accepted = 0;
  std::uint64_t http_connections = 0;  // open now, not upgraded
  std::array<std::uint64_t, refusal_count> refused{};
  std::uint64_t api_requests = 0;
  std::uint64_t publications = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t rounds = 0;
  std::array<std::uint64_t, close_code_slots> disconnects{};
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t channels = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t history_channels = 0;
  std::uint64_t history_evictions = 0;
  // The Redis engine's figures; rendered only when it is the engine.
  struct engine_figures {
    bool shared = false;
    bool up = false;
    std::uint64_t reconnects = 0;
    std::uint64_t publish_errors = 0;
    std::uint64_t commands = 0;
    std::uint64_t writes = 0;
    std::uint64_t round_trip_us = 0;
    std::uint64_t interruptions = 0;
  } engine;
  std::uint64_t log_lines_dropped = 0;  // past a line kind's rate limit
  double cpu_seconds = 0;
  std::uint64_t resident_bytes = 0;
};

// The process's CPU time (user + system) and resident set, from /proc/self.
void read_process_stats(metrics_snapshot& out);

// Prometheus text exposition format, version 0.0.4.
std::string render_prometheus(const metrics_snapshot& m);

}  // namespace herald::core
