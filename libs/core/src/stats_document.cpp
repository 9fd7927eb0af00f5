#include "herald/core/stats_document.hpp"

#include <boost/json.hpp>

namespace herald::core {
namespace {

std::uint64_t slow_disconnects(const metrics_snapshot& m) {
  std::uint64_t total = 0;
  for (const auto& figures : m.by_protocol) {
    total += figures.slow_disconnects;
  }
  return total;
}

// Counters only grow; a smaller later value (which cannot happen) reads as
// no change rather than a huge rate.
double rate(std::uint64_t before, std::uint64_t after, double elapsed_seconds) {
  if (elapsed_seconds <= 0 || after < before) {
    return 0;
  }
  return static_cast<double>(after - before) / elapsed_seconds;
}

}  // namespace

std::string_view engine_state(const metrics_snapshot& m) {
  if (!m.engine.shared) {
    return "memory";
  }
  return m.engine.up ? "up" : "down";
}

std::string encode_stats_document(std::string_view node, std::int64_t unix_ms,
                                  const metrics_snapshot& previous, const metrics_snapshot& current,
                                  double elapsed_seconds) {
  boost::json::object connections;
  for (std::size_t i = 0; i < protocol_count; ++i) {
    connections[protocol_names[i]] = current.by_protocol[i].connections;
  }
  const auto pair = [&](std::uint64_t metrics_snapshot::*member) {
    return std::make_pair(rate(previous.*member, current.*member, elapsed_seconds),
                          current.*member);
  };
  const auto publications = pair(&metrics_snapshot::publications);
  const auto deliveries = pair(&metrics_snapshot::deliveries);
  const auto bytes_in = pair(&metrics_snapshot::bytes_in);
  const auto bytes_out = pair(&metrics_snapshot::bytes_out);
  const std::uint64_t slow = slow_disconnects(current);
  const double slow_rate = rate(slow_disconnects(previous), slow, elapsed_seconds);
  const double cpu = elapsed_seconds > 0 && current.cpu_seconds >= previous.cpu_seconds
                         ? (current.cpu_seconds - previous.cpu_seconds) / elapsed_seconds
                         : 0.0;
  boost::json::object document{
      {"node", node},
      {"time", unix_ms},
      {"interval", elapsed_seconds},
      {"connections", std::move(connections)},
      {"rates",
       {{"publications", publications.first},
        {"deliveries", deliveries.first},
        {"bytes_in", bytes_in.first},
        {"bytes_out", bytes_out.first},
        {"slow_disconnects", slow_rate}}},
      {"totals",
       {{"publications", publications.second},
        {"deliveries", deliveries.second},
        {"bytes_in", bytes_in.second},
        {"bytes_out", bytes_out.second},
        {"slow_disconnects", slow}}},
      {"cpu", cpu},
      {"rss_bytes", current.resident_bytes},
      {"engine", engine_state(current)},
  };
  return boost::json::serialize(document);
}

}  // namespace herald::core
