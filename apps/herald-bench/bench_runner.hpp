#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "bench_options.hpp"
#include "bench_results.hpp"
#include "client_connection.hpp"
#include "latency_histogram.hpp"
#include "poller.hpp"
#include "proc_sampler.hpp"
#include "protocol.hpp"
#include "run_coordination.hpp"
#include "socket_address.hpp"
#include "tls_client.hpp"
#include "ws_handshake.hpp"
#include "ws_url.hpp"

namespace herald::bench {

// One server URL, resolved.
struct run_endpoint {
  ws_url url;
  socket_address server;
};

// Where to connect, resolved before the run so that a bad URL fails fast.
struct run_target {
  ws_url url;  // --url: the publishers, and the subscribers without the next
  socket_address server;
  // --subscriber-urls, round-robin over the subscribers; empty: --url.
  std::vector<run_endpoint> subscriber_endpoints;
  std::vector<socket_address> sources;      // empty: the kernel picks
  const tls_client_context* tls = nullptr;  // wss:// URLs; null for ws://
};

// One thread's part of a run: a level-triggered epoll loop over the
// connections of its slice, driven through the phases
//   connecting -> settling -> warmup -> window -> drain        (load)
//   connecting -> settling -> holding                          (--idle)
// Publishers are connections [0, publishers) of the run, subscribers the
// rest, so a received stamp's publisher index is also the index of the
// connection that sent it. Subscriber j of the run connects to subscriber
// endpoint j % M (with --subscriber-urls) and, with --channel-per-publisher,
// takes channel j % publishers; publisher i takes channel i.
//
// With --threads, one runner per thread: the lead (the first) holds every
// publisher and some subscribers and decides the phases; the followers hold
// the other subscribers, follow the lead's phase through `coordination`, and
// are absorbed into the lead's figures once every thread has stopped.
class bench_runner final : private connection_events {
 public:
  // A run on one thread: `coordination` null, `slice` every subscriber.
  bench_runner(const bench_options& options, const run_target& target, bench_protocol& protocol,
               runner_slice slice, run_coordination* coordination);
  bench_runner(const bench_runner&) = delete;
  bench_runner& operator=(const bench_runner&) = delete;

  // This runner's part of the run, until the lead's phases are done. A
  // follower's figures stay in it for the lead to absorb.
  void run();
  // Adds a follower's counts and latencies to this (the lead's) figures;
  // only once every thread's run() has returned.
  void absorb(const bench_runner& follower);
  // The run's figures (the lead's, after absorbing every follower).
  bench_results results();

 private:
  enum class phase { connecting, settling, warmup, window, drain, holding, done };

  struct publisher_state {
    std::uint64_t next_seq = 0;
    std::uint32_t inflight = 0;  // sent, not yet received back by itself
  };

  // A reading taken at the window's edges.
  struct window_mark {
    std::int64_t ns = 0;
    double bench_cpu_s = 0;
    std::uint64_t bytes_read = 0;                        // by every connection so far
    std::optional<process_sample> server;                // the sum; empty if one is missing
    std::vector<std::optional<process_sample>> servers;  // one per --server-pid
  };

  bool is_lead() const { return slice_.thread == 0; }
  int follower_index() const { return slice_.thread - 1; }
  std::uint64_t thread_count() const {
    return coordination_ == nullptr ? 1
                                    : static_cast<std::uint64_t>(coordination_->followers()) + 1;
  }
  bool is_publisher(std::uint32_t local_index) const { return local_index < local_publishers_; }
  // The run-wide index of this runner's connection `local_index`.
  std::size_t run_index(std::size_t local_index) const;
  // `index` is run-wide.
  std::uint32_t channel_of(std::size_t index) const;
  // Reads every --server-pid into `each`; their sum, or empty if one failed.
  std::optional<process_sample> sample_servers(
      std::vector<std::optional<process_sample>>& each) const;

  void advance_phase(std::int64_t now_ns);
  void follow_lead();
  void publish_tally();
  // Run-wide sums (this runner's plus every follower's latest tally).
  std::uint64_t open_everywhere() const;
  std::uint64_t received_everywhere() const;
  std::uint64_t bytes_read_everywhere() const;
  // Deliveries expected from what was published so far; the maximum while a
  // follower has yet to count its receivers.
  std::uint64_t expected_everywhere() const;
  void count_receivers();
  void enter(phase next, std::int64_t now_ns, double seconds);
  window_mark mark(std::int64_t now_ns) const;
  void open_connections(std::int64_t now_ns);
  void expire_connects(std::int64_t now_ns);
  bool publishing() const { return phase_ == phase::warmup || phase_ == phase::window; }
  void publish_due(std::int64_t now_ns);
  void publish_one(std::uint32_t publisher, std::int64_t now_ns);
  void flush_queued();
  std::int64_t wait_timeout_ns(std::int64_t now_ns) const;
  // --read-interval-us: whether `connection` reads now (and when next);
  // false parks it until its next read is due.
  bool may_read(client_connection& connection, std::int64_t now_ns);
  void resume_parked(std::int64_t now_ns);
  void report_progress(std::int64_t now_ns);
  void collect_results(bench_results& results);

  // connection_events
  void on_ready(client_connection& connection) override;
  void on_failed(client_connection& connection, std::string_view reason) override;
  void on_closed(client_connection& connection, std::uint16_t code) override;
  void on_publication(client_connection& connection, const publication_stamp& stamp,
                      std::int64_t received_ns) override;
  void on_ignored_frame(client_connection& connection) override;
  void on_command_error(client_connection& connection, std::uint32_t code) override;

  const bench_options& options_;
  const run_target& target_;
  bench_protocol& protocol_;
  runner_slice slice_;
  run_coordination* coordination_;  // null on a one-thread run
  // [0]: --url's; [1 + k]: subscriber endpoint k's.
  std::vector<ws_handshake> handshakes_;
  std::vector<std::string> tls_server_names_;  // the same, for wss://
  poller poller_;
  connection_shared shared_;
  std::vector<client_connection> connections_;
  std::vector<publisher_state> publishers_;
  // --read-interval-us: per connection, when it may read next; and the
  // subscribers that stopped watching for input until then, soonest first.
  std::int64_t read_interval_ns_ = 0;
  std::vector<std::int64_t> next_read_ns_;
  using parked_read = std::pair<std::int64_t, std::uint32_t>;  // due, connection
  std::priority_queue<parked_read, std::vector<parked_read>, std::greater<>> parked_;
  std::uint32_t publisher_count_ = 0;   // of the run
  std::uint32_t local_publishers_ = 0;  // held here: the lead's are the run's

  phase phase_ = phase::connecting;
  std::int64_t run_start_ns_ = 0;
  std::int64_t phase_end_ns_ = 0;

  // Connecting.
  std::size_t next_to_open_ = 0;
  std::uint64_t in_progress_ = 0;
  std::int64_t next_expiry_check_ns_ = 0;
  std::uint64_t connections_ok_ = 0;
  std::uint64_t connections_failed_ = 0;
  std::uint64_t connections_closed_ = 0;
  std::uint64_t open_ = 0;
  std::map<std::uint16_t, std::uint64_t> close_codes_;
  std::map<std::string, std::uint64_t> failure_reasons_;
  double connect_s_ = 0;

  // Publishing.
  std::uint64_t receivers_ = 0;
  // Per channel: this runner's ready connections on it when publishing
  // began, and the lead's publications on it. Expected deliveries are the
  // publications times the receivers of every thread (the followers'
  // counts are read from the coordination, not absorbed).
  std::vector<std::uint64_t> channel_receivers_;
  std::vector<std::uint64_t> channel_published_;
  std::int64_t publish_start_ns_ = 0;
  std::uint64_t rate_issued_ = 0;  // publications the --rate schedule has handed out
  std::uint32_t next_rate_publisher_ = 0;
  std::string payload_;  // scratch, reused: no allocation per publication
  std::string text_;

  // Figures.
  std::uint64_t published_total_ = 0;
  std::uint64_t published_window_ = 0;
  std::uint64_t publish_skipped_ = 0;
  std::uint64_t received_total_ = 0;
  std::uint64_t deliveries_window_ = 0;
  std::uint64_t ignored_frames_ = 0;
  std::uint64_t foreign_publications_ = 0;
  std::map<std::uint32_t, std::uint64_t> command_errors_;
  latency_histogram window_latency_;
  window_mark window_start_;
  window_mark window_end_;
  std::vector<std::optional<process_sample>> servers_before_connecting_;
  std::vector<std::optional<process_sample>> servers_after_settling_;
  std::optional<process_sample> server_before_connecting_;
  std::optional<process_sample> server_after_settling_;
  std::uint64_t open_when_sampled_ = 0;

  // Progress line, once per second.
  latency_histogram interval_latency_;
  std::uint64_t received_at_last_progress_ = 0;
  std::uint64_t interval_published_ = 0;
  std::int64_t last_progress_ns_ = 0;
};

}  // namespace herald::bench
