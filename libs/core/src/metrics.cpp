#include "herald/core/metrics.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace herald::core {
namespace {

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// A family with one unlabelled sample.
template <class Value>
void single(std::ostringstream& out, const char* name, const char* type, const char* help,
            Value value) {
  family(out, name, type, help);
  out << name << ' ' << value << '\n';
}

// A family with one sample per protocol.
void per_protocol(std::ostringstream& out, const metrics_snapshot& m, const char* name,
                  const char* type, const char* help, std::uint64_t protocol_figures::*figure) {
  family(out, name, type, help);
  for (std::size_t i = 0; i < protocol_count; ++i) {
    out << name << "{protocol=\"" << protocol_names[i] << "\"} " << m.by_protocol[i].*figure
        << '\n';
  }
}

}  // namespace

std::size_t close_code_slot(std::uint16_t code) {
  for (std::size_t i = 0; i < counted_close_codes.size(); ++i) {
    if (counted_close_codes[i] == code) {
      return i;
    }
  }
  return counted_close_codes.size();
}

void read_process_stats(metrics_snapshot& out) {
  // /proc/self/stat: fields 14 and 15 are utime and stime in clock ticks;
  // the command name (field 2) may hold spaces, so skip past its ')'.
  std::ifstream stat{"/proc/self/stat"};
  std::string text{std::istreambuf_iterator<char>{stat}, std::istreambuf_iterator<char>{}};
  const auto paren = text.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields{text.substr(paren + 2)};
    std::string skip;
    for (int field = 3; field < 14; ++field) {
      fields >> skip;
    }
    unsigned long long utime = 0, stime = 0;
    fields >> utime >> stime;
    out.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream statm{"/proc/self/statm"};
  unsigned long long size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    out.resident_bytes = resident_pages * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE));
  }
}

std::string render_prometheus(const metrics_snapshot& m) {
  std::ostringstream out;
  per_protocol(out, m, "herald_connections", "gauge",
               "WebSocket connections open now, by protocol.", &protocol_figures::connections);
  per_protocol(out, m, "herald_compressed_connections", "gauge",
               "WebSocket connections open now that negotiated permessage-deflate, by protocol.",
               &protocol_figures::compressed);
  per_protocol(out, m, "herald_connections_accepted_total", "counter",
               "WebSocket handshakes completed, by protocol.", &protocol_figures::accepted);
  single(out, "herald_tcp_connections_accepted_total", "counter", "TCP connections accepted.",
         m.tcp_accepted);
  single(out, "herald_http_connections", "gauge",
         "HTTP connections open now that have not upgraded.", m.http_connections);
  family(out, "herald_refused_total", "counter",
         "Connections and upgrades turned away before they were served, by cause.");
  for (std::size_t i = 0; i < refusal_count; ++i) {
    out << "herald_refused_total{cause=\"" << refusal_names[i] << "\"} " << m.refused[i] << '\n';
  }
  single(out, "herald_api_requests_total", "counter", "Server API requests answered.",
         m.api_requests);
  single(out, "herald_publications_total", "counter",
         "Publications this node fanned out, whichever node they came from.", m.publications);
  single(out, "herald_deliveries_total", "counter", "Publications handed to subscribers.",
         m.deliveries);
  single(out, "herald_rounds_total", "counter",
         "Fan-out rounds sent: deliveries per round grow with load.", m.rounds);
  per_protocol(out, m, "herald_slow_disconnects_total", "counter",
               "Clients disconnected for falling client-queue-max-bytes behind, by protocol.",
               &protocol_figures::slow_disconnects);
  family(out, "herald_disconnects_total", "counter",
         "WebSocket connections ended, by close code (1006: no close frame).");
  for (std::size_t i = 0; i < close_code_slots; ++i) {
    out << "herald_disconnects_total{code=\"";
    if (i < counted_close_codes.size()) {
      out << counted_close_codes[i];
    } else {
      out << "other";
    }
    out << "\"} " << m.disconnects[i] << '\n';
  }
  single(out, "herald_received_bytes_total", "counter", "WebSocket message bytes received.",
         m.bytes_in);
  single(out, "herald_sent_bytes_total", "counter", "WebSocket message bytes sent.", m.bytes_out);
  single(out, "herald_channels", "gauge", "Channels with at least one subscriber.", m.channels);
  single(out, "herald_history_channels", "gauge",
         "Channels with a history position (a stream, or its epoch and offset).",
         m.history_channels);
  single(out, "herald_history_evictions_total", "counter",
         "History positions forgotten to stay within history-max-channels.", m.history_evictions);
  single(out, "herald_subscriptions", "gauge",
         "Subscriptions: each connection counted once per channel it is in.", m.subscriptions);
  if (m.engine.shared) {
    const auto& engine = m.engine;
    single(out, "herald_engine_up", "gauge",
           "1 when every Redis shard answers on both of this node's connections.",
           engine.up ? 1 : 0);
    single(out, "herald_engine_reconnects_total", "counter",
           "Redis connections lost after they were up (each is retried).", engine.reconnects);
    single(out, "herald_engine_publish_errors_total", "counter",
           "Publications Redis did not take (down, or an unexpected reply).",
           engine.publish_errors);
    single(out, "herald_engine_commands_total", "counter",
           "Commands sent to Redis, pipelined: those of one turn go in one write.",
           engine.commands);
    single(out, "herald_engine_writes_total", "counter",
           "Socket writes to Redis; commands per write is the pipelining.", engine.writes);
    single(out, "herald_engine_round_trip_seconds", "gauge",
           "Round trip of the last Redis command answered.",
           static_cast<double>(engine.round_trip_us) / 1e6);
    single(out, "herald_engine_interruptions_total", "counter",
           "Channels whose subscription in Redis was interrupted (pub/sub lost, or a gap in the "
           "offsets); their positioned subscribers are told to recover.",
           engine.interruptions);
  }
  single(out, "herald_log_lines_dropped_total", "counter",
         "Log lines a client could cause that were dropped past their kind's rate limit.",
         m.log_lines_dropped);
  single(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent.",
         m.cpu_seconds);
  single(out, "process_resident_memory_bytes", "gauge", "Resident memory size.", m.resident_bytes);
  return out.str();
}

}  // namespace herald::core
