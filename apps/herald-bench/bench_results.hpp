#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace herald::bench {

// Every figure of one run. Counts named *_total cover warmup, window and
// drain; the others the measured window only.
struct bench_results {
  // What was asked for.
  std::string label;
  std::string url;
  std::string protocol;
  bool tls = false;           // wss://
  bool tls_verified = false;  // wss:// with --tls-ca
  bool idle = false;
  int subscribers = 0;
  int publishers = 0;
  std::size_t size = 0;
  std::string filler;        // --filler: "x" or "ticker"
  bool compression = false;  // --compression: permessage-deflate offered, and required
  double rate = 0;
  int inflight = 0;
  int read_interval_us = 0;
  int threads = 1;  // --threads
  double warmup_s = 0;
  double drain_s = 0;

  // Connections.
  std::uint64_t connections_ok = 0;
  std::uint64_t connections_failed = 0;
  std::uint64_t connections_closed = 0;  // ready, then closed by the server
  std::map<std::uint16_t, std::uint64_t> close_codes;
  std::map<std::string, std::uint64_t> failure_reasons;
  double connect_s = 0;  // from the first connect to the last outcome
  int receivers = 0;     // ready connections when publishing began

  // The measured window.
  double window_s = 0;
  std::uint64_t deliveries = 0;
  // Bytes read from the sockets by every connection, publishers included
  // (they are receivers too), after TLS decryption: with ws:// the
  // WebSocket bytes on the wire, frame headers and the rare ping included.
  std::uint64_t received_bytes = 0;
  std::uint64_t published = 0;
  std::uint64_t latency_samples = 0;
  std::int64_t latency_p50_ns = 0;
  std::int64_t latency_p90_ns = 0;
  std::int64_t latency_p99_ns = 0;
  std::int64_t latency_p999_ns = 0;
  std::int64_t latency_max_ns = 0;
  double latency_mean_ns = 0;

  // Loss, once the drain is over.
  std::uint64_t published_total = 0;
  std::uint64_t received_total = 0;
  std::uint64_t expected_total = 0;  // published_total x receivers
  std::uint64_t lost = 0;

  // Frames that carried no stamp of this run, and publications a publisher
  // could not even hand to its socket (--rate faster than the link).
  std::uint64_t ignored_frames = 0;
  std::uint64_t foreign_publications = 0;
  std::uint64_t publish_skipped = 0;
  // Commands the server refused after setup (Centrifugo: publish errors),
  // by protocol error code.
  std::map<std::uint32_t, std::uint64_t> command_errors;

  // Cost, in the window (idle mode: while the connections are held). The
  // server_* figures are sums over every --server-pid (empty if one could not
  // be read); `servers` has each one's.
  double bench_cpu_s = 0;
  std::optional<pid_t> server_pid;  // the first --server-pid
  std::optional<double> server_cpu_s;
  // Of server_cpu_s, what ran in user space: the servers' own code and
  // libraries, apart from the system calls (both count in ticks of 10 ms).
  std::optional<double> server_user_cpu_s;
  std::optional<std::uint64_t> server_rss_bytes;         // at the window's end
  std::optional<std::uint64_t> server_rss_before_bytes;  // idle: before connecting
  std::optional<double> rss_per_connection_bytes;        // idle only

  struct server_process {
    pid_t pid = 0;
    std::optional<double> cpu_s;
    std::optional<std::uint64_t> rss_bytes;
    std::optional<std::uint64_t> rss_before_bytes;  // idle only
  };
  std::vector<server_process> servers;
};

}  // namespace herald::bench
