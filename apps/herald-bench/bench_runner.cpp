#include "bench_runner.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>

#include "clock.hpp"

namespace herald::bench {

namespace {

constexpr std::int64_t ns_per_ms = 1'000'000;
constexpr std::int64_t progress_interval_ns = 1'000'000'000;
// Connect timeouts need no precision: checking ten times a second keeps
// the scan over all connections off the hot path.
constexpr std::int64_t expiry_check_interval_ns = 100 * ns_per_ms;
// At a fixed --rate a publisher whose socket stays full would otherwise
// buffer without bound; past this many unsent bytes publications are
// skipped (and counted) instead. At --rate 0, --inflight is the bound.
constexpr std::size_t max_publisher_backlog_bytes = 16u << 20;

const char* phase_name(int phase) {
  static const char* const names[] = {"connecting", "settling", "warmup", "window",
                                      "drain",      "holding",  "done"};
  return names[phase];
}

}  // namespace

bench_runner::bench_runner(const bench_options& options, const run_target& target,
                           bench_protocol& protocol)
    : options_(options), target_(target), protocol_(protocol) {
  handshakes_.reserve(1 + target.subscriber_endpoints.size());
  handshakes_.emplace_back(target.url.host_header, target.url.path, options.compression);
  auto tls_name = [&options](const ws_url& url) {
    return options.tls_server_name.empty() ? url.host : options.tls_server_name;
  };
  tls_server_names_.push_back(tls_name(target.url));
  for (const run_endpoint& endpoint : target.subscriber_endpoints) {
    handshakes_.emplace_back(endpoint.url.host_header, endpoint.url.path, options.compression);
    tls_server_names_.push_back(tls_name(endpoint.url));
  }
  shared_.poll = &poller_;
  shared_.protocol = &protocol_;
  shared_.events = this;
  shared_.tls = target.tls;
  shared_.masks = mask_key_source(std::random_device{}());
  publisher_count_ = options.idle ? 0 : static_cast<std::uint32_t>(options.publishers);
  std::size_t total = publisher_count_ + static_cast<std::size_t>(options.subscribers);
  connections_.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    connections_.emplace_back(static_cast<std::uint32_t>(i), channel_of(i), shared_);
  }
  publishers_.resize(publisher_count_);
  read_interval_ns_ = static_cast<std::int64_t>(options.read_interval_us) * 1000;
  if (read_interval_ns_ > 0) {
    next_read_ns_.assign(total, 0);
  }
  channel_receivers_.resize(protocol_.channel_count());
}

std::uint32_t bench_runner::channel_of(std::size_t index) const {
  if (protocol_.channel_count() <= 1 || publisher_count_ == 0) {
    return 0;
  }
  if (index < publisher_count_) {
    return static_cast<std::uint32_t>(index);
  }
  return static_cast<std::uint32_t>((index - publisher_count_) % publisher_count_);
}

std::optional<process_sample> bench_runner::sample_servers(
    std::vector<std::optional<process_sample>>& each) const {
  each.clear();
  process_sample sum;
  bool complete = true;
  for (pid_t pid : options_.server_pids) {
    std::optional<process_sample> sample = sample_process(pid);
    if (sample) {
      sum.cpu_s += sample->cpu_s;
      sum.rss_bytes += sample->rss_bytes;
    } else {
      complete = false;
    }
    each.push_back(sample);
  }
  if (!complete) {
    return std::nullopt;
  }
  return sum;
}

bench_results bench_runner::run() {
  run_start_ns_ = monotonic_ns();
  last_progress_ns_ = run_start_ns_;
  if (options_.idle && !options_.server_pids.empty()) {
    server_before_connecting_ = sample_servers(servers_before_connecting_);
  }
  phase_ = phase::connecting;
  while (true) {
    std::int64_t now = monotonic_ns();
    advance_phase(now);
    if (phase_ == phase::done) {
      break;
    }
    if (phase_ == phase::connecting) {
      open_connections(now);
      expire_connects(now);
    }
    if (publishing()) {
      publish_due(now);
    }
    flush_queued();
    resume_parked(now);
    int ready = poller_.wait(wait_timeout_ns(now));
    std::int64_t woken = read_interval_ns_ > 0 ? monotonic_ns() : 0;
    for (int i = 0; i < ready; ++i) {
      const epoll_event& event = poller_.ready(i);
      client_connection& connection = connections_[event.data.u64];
      if ((event.events & (EPOLLERR | EPOLLHUP)) != 0 ||
          ((event.events & EPOLLIN) != 0 && may_read(connection, woken))) {
        connection.on_readable();
      }
      if ((event.events & EPOLLOUT) != 0 &&
          connection.current_state() != client_connection::state::closed) {
        connection.on_writable();
      }
    }
    report_progress(monotonic_ns());
  }
  for (client_connection& connection : connections_) {
    connection.shut_down();
  }
  bench_results results;
  collect_results(results);
  return results;
}

void bench_runner::enter(phase next, std::int64_t now_ns, double seconds) {
  phase_ = next;
  phase_end_ns_ = now_ns + s_to_ns(seconds);
}

bench_runner::window_mark bench_runner::mark(std::int64_t now_ns) const {
  window_mark reading;
  reading.ns = now_ns;
  reading.bench_cpu_s = sample_self().cpu_s;
  reading.bytes_read = shared_.bytes_read;
  if (!options_.server_pids.empty()) {
    reading.server = sample_servers(reading.servers);
  }
  return reading;
}

void bench_runner::advance_phase(std::int64_t now_ns) {
  switch (phase_) {
    case phase::connecting:
      if (next_to_open_ == connections_.size() && in_progress_ == 0) {
        connect_s_ = ns_to_s(now_ns - run_start_ns_);
        if (connections_ok_ == 0) {
          phase_ = phase::done;
        } else {
          enter(phase::settling, now_ns, options_.settle_s);
        }
      }
      break;
    case phase::settling:
      if (now_ns >= phase_end_ns_) {
        if (options_.idle) {
          if (!options_.server_pids.empty()) {
            server_after_settling_ = sample_servers(servers_after_settling_);
            open_when_sampled_ = open_;
          }
          window_start_ = mark(now_ns);
          enter(phase::holding, now_ns, options_.duration_s);
        } else {
          // Loss is counted against the receivers present when publishing
          // starts: one that drops out later loses what it did not get.
          receivers_ = open_;
          for (const client_connection& connection : connections_) {
            if (connection.is_ready()) {
              ++channel_receivers_[connection.channel()];
            }
          }
          publish_start_ns_ = now_ns;
          enter(phase::warmup, now_ns, options_.warmup_s);
        }
      }
      break;
    case phase::warmup:
      if (now_ns >= phase_end_ns_) {
        window_start_ = mark(now_ns);
        enter(phase::window, now_ns, options_.duration_s);
      }
      break;
    case phase::window:
      if (now_ns >= phase_end_ns_ || open_ == 0) {
        window_end_ = mark(now_ns);
        enter(phase::drain, now_ns, options_.drain_s);
      }
      break;
    case phase::drain:
      if (now_ns >= phase_end_ns_ || open_ == 0 || received_total_ >= expected_total_) {
        phase_ = phase::done;
      }
      break;
    case phase::holding:
      if (now_ns >= phase_end_ns_ || open_ == 0) {
        window_end_ = mark(now_ns);
        phase_ = phase::done;
      }
      break;
    case phase::done:
      break;
  }
}

void bench_runner::open_connections(std::int64_t now_ns) {
  auto concurrency = static_cast<std::uint64_t>(options_.connect_concurrency);
  std::int64_t deadline = now_ns + s_to_ns(options_.connect_timeout_s);
  while (next_to_open_ < connections_.size() && in_progress_ < concurrency) {
    std::size_t index = next_to_open_++;
    const socket_address* source =
        target_.sources.empty() ? nullptr : &target_.sources[index % target_.sources.size()];
    // Counted before start(): a connect that fails at once reports
    // on_failed from inside it.
    ++in_progress_;
    if (index < publisher_count_ || target_.subscriber_endpoints.empty()) {
      connections_[index].start(target_.server, handshakes_[0], source, deadline,
                                tls_server_names_[0]);
    } else {
      std::size_t endpoint = (index - publisher_count_) % target_.subscriber_endpoints.size();
      connections_[index].start(target_.subscriber_endpoints[endpoint].server,
                                handshakes_[1 + endpoint], source, deadline,
                                tls_server_names_[1 + endpoint]);
    }
  }
}

void bench_runner::expire_connects(std::int64_t now_ns) {
  if (now_ns < next_expiry_check_ns_) {
    return;
  }
  next_expiry_check_ns_ = now_ns + expiry_check_interval_ns;
  for (std::size_t i = 0; i < next_to_open_; ++i) {
    client_connection& connection = connections_[i];
    if (connection.in_progress() && connection.deadline_ns() <= now_ns) {
      connection.fail("timeout");
    }
  }
}

void bench_runner::publish_due(std::int64_t now_ns) {
  if (publisher_count_ == 0) {
    return;
  }
  if (options_.rate > 0) {
    // The schedule is absolute (n-th publication at start + n / rate), so a
    // late wakeup sends what is due at once instead of drifting behind.
    auto due = static_cast<std::uint64_t>(ns_to_s(now_ns - publish_start_ns_) * options_.rate);
    while (rate_issued_ < due) {
      ++rate_issued_;
      // Round-robin over the publishers that are still connected.
      for (std::uint32_t tried = 0; tried < publisher_count_; ++tried) {
        std::uint32_t publisher = next_rate_publisher_;
        next_rate_publisher_ = (next_rate_publisher_ + 1) % publisher_count_;
        client_connection& connection = connections_[publisher];
        if (!connection.is_ready()) {
          continue;
        }
        if (connection.unsent_bytes() > max_publisher_backlog_bytes) {
          ++publish_skipped_;
        } else {
          publish_one(publisher, now_ns);
        }
        break;
      }
    }
    return;
  }
  auto window = static_cast<std::uint32_t>(options_.inflight);
  for (std::uint32_t publisher = 0; publisher < publisher_count_; ++publisher) {
    if (!connections_[publisher].is_ready()) {
      continue;
    }
    while (publishers_[publisher].inflight < window) {
      publish_one(publisher, now_ns);
    }
  }
}

void bench_runner::publish_one(std::uint32_t publisher, std::int64_t now_ns) {
  client_connection& connection = connections_[publisher];
  publisher_state& state = publishers_[publisher];
  publication_stamp stamp{publisher, state.next_seq++, now_ns};
  payload_.clear();
  append_payload(payload_, stamp, options_.size, options_.filler);
  text_.clear();
  protocol_.encode_publication(payload_, connection.channel(), text_);
  connection.send_text(text_);
  ++state.inflight;
  ++published_total_;
  expected_total_ += channel_receivers_[connection.channel()];
  ++interval_published_;
  if (phase_ == phase::window) {
    ++published_window_;
  }
}

void bench_runner::flush_queued() {
  // Indexed: a flush that fails closes its connection, which must not
  // invalidate the iteration.
  std::vector<std::uint32_t>& queue = shared_.flush_queue;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    connections_[queue[i]].flush();
  }
  queue.clear();
}

bool bench_runner::may_read(client_connection& connection, std::int64_t now_ns) {
  // Publishers read at once: their window is counted by what they read.
  if (read_interval_ns_ == 0 || connection.index() < publisher_count_ || !connection.is_ready()) {
    return true;
  }
  std::int64_t& next = next_read_ns_[connection.index()];
  if (now_ns >= next) {
    next = now_ns + read_interval_ns_;
    return true;
  }
  connection.pause_reading();
  parked_.emplace(next, connection.index());
  return false;
}

void bench_runner::resume_parked(std::int64_t now_ns) {
  while (!parked_.empty() && parked_.top().first <= now_ns) {
    connections_[parked_.top().second].resume_reading();
    parked_.pop();
  }
}

std::int64_t bench_runner::wait_timeout_ns(std::int64_t now_ns) const {
  std::int64_t next = last_progress_ns_ + progress_interval_ns;
  if (phase_ == phase::connecting) {
    next = std::min(next, now_ns + expiry_check_interval_ns);
  } else {
    next = std::min(next, phase_end_ns_);
  }
  if (publishing() && options_.rate > 0) {
    auto next_due = publish_start_ns_ +
                    static_cast<std::int64_t>(
                        std::ceil(static_cast<double>(rate_issued_ + 1) * 1e9 / options_.rate));
    next = std::min(next, next_due);
  }
  if (!parked_.empty()) {
    next = std::min(next, parked_.top().first);
  }
  if (next <= now_ns) {
    return 0;
  }
  return std::min<std::int64_t>(next - now_ns, 1000 * ns_per_ms);
}

void bench_runner::report_progress(std::int64_t now_ns) {
  if (now_ns - last_progress_ns_ < progress_interval_ns) {
    return;
  }
  double interval_s = ns_to_s(now_ns - last_progress_ns_);
  last_progress_ns_ = now_ns;
  if (!options_.quiet) {
    double elapsed_s = ns_to_s(now_ns - run_start_ns_);
    if (phase_ == phase::connecting || phase_ == phase::settling || phase_ == phase::holding) {
      std::fprintf(stderr,
                   "herald-bench: %6.1fs %-10s ready %" PRIu64 "/%zu  failed %" PRIu64
                   "  open %" PRIu64 "\n",
                   elapsed_s, phase_name(static_cast<int>(phase_)), connections_ok_,
                   connections_.size(), connections_failed_, open_);
    } else {
      std::fprintf(stderr,
                   "herald-bench: %6.1fs %-10s deliveries/s %.0f  published/s %.0f  open %" PRIu64
                   "  p99 %.3f ms\n",
                   elapsed_s, phase_name(static_cast<int>(phase_)),
                   static_cast<double>(interval_deliveries_) / interval_s,
                   static_cast<double>(interval_published_) / interval_s, open_,
                   static_cast<double>(interval_latency_.percentile_ns(99)) / 1e6);
    }
  }
  interval_latency_.reset();
  interval_deliveries_ = 0;
  interval_published_ = 0;
}

void bench_runner::on_ready(client_connection&) {
  ++connections_ok_;
  --in_progress_;
  ++open_;
}

void bench_runner::on_failed(client_connection&, std::string_view reason) {
  ++connections_failed_;
  --in_progress_;
  ++failure_reasons_[std::string(reason)];
}

void bench_runner::on_closed(client_connection&, std::uint16_t code) {
  --open_;
  ++connections_closed_;
  ++close_codes_[code];
}

void bench_runner::on_publication(client_connection& connection, const publication_stamp& stamp,
                                  std::int64_t received_ns) {
  // Stamps of another run (or another bench on the same channel) would
  // distort both loss and latency.
  // A publication on another connection's channel would be a server's
  // mistake: counted the same way.
  if (stamp.publisher >= publisher_count_ || stamp.sent_ns < run_start_ns_ ||
      stamp.sent_ns > received_ns || channel_of(stamp.publisher) != connection.channel()) {
    ++foreign_publications_;
    return;
  }
  ++received_total_;
  std::int64_t latency_ns = received_ns - stamp.sent_ns;
  if (phase_ == phase::window) {
    ++deliveries_window_;
    window_latency_.record(latency_ns);
  }
  if (!options_.quiet) {
    ++interval_deliveries_;
    interval_latency_.record(latency_ns);
  }
  if (connection.index() == stamp.publisher) {
    std::uint32_t& inflight = publishers_[stamp.publisher].inflight;
    if (inflight > 0) {
      --inflight;
    }
  }
}

void bench_runner::on_ignored_frame(client_connection&) {
  ++ignored_frames_;
}

void bench_runner::on_command_error(client_connection& connection, std::uint32_t code) {
  ++command_errors_[code];
  // A refused publication never comes back to its publisher: at --rate 0 it
  // must not hold a place in the window.
  if (connection.index() < publisher_count_) {
    std::uint32_t& inflight = publishers_[connection.index()].inflight;
    if (inflight > 0) {
      --inflight;
    }
  }
}

void bench_runner::collect_results(bench_results& r) {
  r.label = options_.label;
  r.url = options_.url;
  r.protocol = std::string(protocol_.name());
  r.tls = target_.tls != nullptr;
  r.tls_verified = r.tls && target_.tls->verifies_server();
  r.idle = options_.idle;
  r.subscribers = options_.subscribers;
  r.publishers = static_cast<int>(publisher_count_);
  r.size = options_.size;
  r.filler = std::string(filler_name(options_.filler));
  r.compression = options_.compression;
  r.rate = options_.rate;
  r.inflight = options_.inflight;
  r.read_interval_us = options_.read_interval_us;
  r.warmup_s = options_.warmup_s;
  r.drain_s = options_.drain_s;

  r.connections_ok = connections_ok_;
  r.connections_failed = connections_failed_;
  r.connections_closed = connections_closed_;
  r.close_codes = close_codes_;
  r.failure_reasons = failure_reasons_;
  r.connect_s = connect_s_;
  r.receivers = static_cast<int>(receivers_);

  bool window_measured = window_end_.ns > window_start_.ns && window_start_.ns > 0;
  if (window_measured) {
    r.window_s = ns_to_s(window_end_.ns - window_start_.ns);
    r.bench_cpu_s = window_end_.bench_cpu_s - window_start_.bench_cpu_s;
    r.received_bytes = window_end_.bytes_read - window_start_.bytes_read;
    if (window_start_.server && window_end_.server) {
      r.server_cpu_s = window_end_.server->cpu_s - window_start_.server->cpu_s;
      r.server_rss_bytes = window_end_.server->rss_bytes;
    }
  }
  r.deliveries = deliveries_window_;
  r.published = published_window_;
  r.latency_samples = window_latency_.count();
  r.latency_p50_ns = window_latency_.percentile_ns(50);
  r.latency_p90_ns = window_latency_.percentile_ns(90);
  r.latency_p99_ns = window_latency_.percentile_ns(99);
  r.latency_p999_ns = window_latency_.percentile_ns(99.9);
  r.latency_max_ns = window_latency_.max_ns();
  r.latency_mean_ns = window_latency_.mean_ns();

  r.published_total = published_total_;
  r.received_total = received_total_;
  r.expected_total = expected_total_;
  r.lost = r.expected_total > received_total_ ? r.expected_total - received_total_ : 0;
  r.ignored_frames = ignored_frames_;
  r.foreign_publications = foreign_publications_;
  r.command_errors = command_errors_;
  r.publish_skipped = publish_skipped_;

  if (!options_.server_pids.empty()) {
    r.server_pid = options_.server_pids.front();
  }
  for (std::size_t i = 0; i < options_.server_pids.size(); ++i) {
    bench_results::server_process& each = r.servers.emplace_back();
    each.pid = options_.server_pids[i];
    auto reading = [i](const std::vector<std::optional<process_sample>>& samples) {
      return i < samples.size() ? samples[i] : std::nullopt;
    };
    if (window_measured) {
      auto start = reading(window_start_.servers);
      auto end = reading(window_end_.servers);
      if (start && end) {
        each.cpu_s = end->cpu_s - start->cpu_s;
        each.rss_bytes = end->rss_bytes;
      }
    }
    if (options_.idle) {
      auto before = reading(servers_before_connecting_);
      auto after = reading(servers_after_settling_);
      if (before && after) {
        each.rss_before_bytes = before->rss_bytes;
        each.rss_bytes = after->rss_bytes;
      }
    }
  }
  if (options_.idle && server_before_connecting_ && server_after_settling_) {
    r.server_rss_before_bytes = server_before_connecting_->rss_bytes;
    r.server_rss_bytes = server_after_settling_->rss_bytes;
    if (open_when_sampled_ > 0) {
      r.rss_per_connection_bytes = (static_cast<double>(server_after_settling_->rss_bytes) -
                                    static_cast<double>(server_before_connecting_->rss_bytes)) /
                                   static_cast<double>(open_when_sampled_);
    }
  }
}

}  // namespace herald::bench
