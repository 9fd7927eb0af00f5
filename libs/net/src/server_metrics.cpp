#include "server_metrics.hpp"

#include "herald/log/log.hpp"

namespace herald::net {

core::metrics_snapshot snapshot_metrics(const server_context& ctx) {
  core::metrics_snapshot m;
  const auto& counters = ctx.counters;
  constexpr auto relaxed = std::memory_order_relaxed;
  for (std::size_t i = 0; i < core::protocol_count; ++i) {
    const auto& from = counters.by_protocol[i];
    auto& to = m.by_protocol[i];
    to.connections = from.connections.load(relaxed);
    to.compressed = from.compressed.load(relaxed);
    to.accepted = from.accepted.load(relaxed);
    to.slow_disconnects = from.slow_disconnects.load(relaxed);
  }
  m.tcp_accepted = counters.accepted_tcp.load(relaxed);
  m.http_connections = counters.http_connections.load(relaxed);
  for (std::size_t i = 0; i < core::refusal_count; ++i) {
    m.refused[i] = counters.refused[i].load(relaxed);
  }
  m.api_requests = counters.api_requests.load(relaxed);
  for (std::size_t i = 0; i < m.disconnects.size(); ++i) {
    m.disconnects[i] = counters.disconnects[i].load(relaxed);
  }
  m.bytes_in = counters.bytes_in.load();
  m.bytes_out = counters.bytes_out.load();
  const auto& published = ctx.hub.counters();
  m.publications = published.publications.load(relaxed);
  m.deliveries = published.deliveries.load(relaxed);
  m.rounds = published.rounds.load(relaxed);
  m.channels = published.channels.load(relaxed);
  m.subscriptions = published.subscriptions.load(relaxed);
  m.history_channels = published.history_channels.load(relaxed);
  m.history_evictions = published.history_evictions.load(relaxed);
  m.engine.shared = published.engine_shared.load(relaxed);
  m.engine.up = published.engine_up.load(relaxed);
  m.engine.reconnects = published.engine_reconnects.load(relaxed);
  m.engine.publish_errors = published.engine_publish_errors.load(relaxed);
  m.engine.commands = published.engine_commands.load(relaxed);
  m.engine.writes = published.engine_writes.load(relaxed);
  m.engine.round_trip_us = published.engine_round_trip_us.load(relaxed);
  m.engine.interruptions = published.engine_interruptions.load(relaxed);
  m.log_lines_dropped = log::lines_dropped();
  core::read_process_stats(m);
  return m;
}

}  // namespace herald::net
