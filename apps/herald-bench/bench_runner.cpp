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
// With --threads, how soon a thread notices another's progress (the lead's
// phase, a follower done connecting): phase edges are this late at most.
constexpr std::int64_t follow_interval_ns = ns_per_ms;

const char* phase_name(int phase) {
  static const char* const names[] = {"connecting", "settling", "warmup", "window",
                                      "drain",      "holding",  "done"};
  return names[phase];
}

}  // namespace

bench_runner::bench_runner(const bench_options& options, const run_target& target,
                           bench_protocol& protocol, runner_slice slice,
                           run_coordination* coordination)
    : options_(options),
      target_(target),
      protocol_(protocol),
      slice_(slice),
      coordination_(coordination) {
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
  local_publishers_ = is_lead() ? publisher_count_ : 0;
  std::size_t total = local_publishers_ + slice.subscribers;
  connections_.reserve(total);
  for (std::size_t i = 0; i < total; ++i) {
    connections_.emplace_back(static_cast<std::uint32_t>(i), channel_of(run_index(i)), shared_);
  }
  publishers_.resize(local_publishers_);
  read_interval_ns_ = static_cast<std::int64_t>(options.read_interval_us) * 1000;
  if (read_interval_ns_ > 0) {
    next_read_ns_.assign(total, 0);
  }
  channel_receivers_.resize(protocol_.channel_count());
  channel_published_.resize(protocol_.channel_count());
}

std::size_t bench_runner::run_index(std::size_t local_index) const {
  if (local_index < local_publishers_) {
    return local_index;
  }
  return publisher_count_ + slice_.first_subscriber + (local_index - local_publishers_);
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
      sum.user_cpu_s += sample->user_cpu_s;
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

void bench_runner::run() {
  if (coordination_ != nullptr && !is_lead()) {
    // The lead samples the servers before anyone connects.
    while (coordination_->lead_phase.load(std::memory_order_acquire) < 0 &&
           !coordination_->aborted.load(std::memory_order_relaxed)) {
      poller_.wait(follow_interval_ns);
    }
  }
  run_start_ns_ = monotonic_ns();
  last_progress_ns_ = run_start_ns_;
  if (is_lead() && options_.idle && !options_.server_pids.empty()) {
    server_before_connecting_ = sample_servers(servers_before_connecting_);
  }
  phase_ = phase::connecting;
  if (coordination_ != nullptr && is_lead()) {
    coordination_->lead_phase.store(static_cast<int>(phase_), std::memory_order_release);
  }
  while (true) {
    std::int64_t now = monotonic_ns();
    if (is_lead()) {
      advance_phase(now);
    } else {
      follow_lead();
    }
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
    if (is_lead()) {
      report_progress(monotonic_ns());
    } else {
      publish_tally();
    }
  }
  for (client_connection& connection : connections_) {
    connection.shut_down();
  }
}

bench_results bench_runner::results() {
  bench_results results;
  collect_results(results);
  return results;
}

void bench_runner::follow_lead() {
  if (coordination_->aborted.load(std::memory_order_relaxed)) {
    phase_ = phase::done;
    return;
  }
  if (phase_ == phase::connecting) {
    if (next_to_open_ == connections_.size() && in_progress_ == 0) {
      phase_ = phase::settling;
      publish_tally();
      coordination_->still_connecting.fetch_sub(1, std::memory_order_release);
    }
    return;
  }
  auto lead = static_cast<phase>(coordination_->lead_phase.load(std::memory_order_acquire));
  if (lead == phase_ || lead == phase::connecting) {
    return;
  }
  // Counted when the follower first sees the publishing phase, at most one
  // loop turn after the lead counted its own: deliveries read before that
  // turn still count in received_total, so the totals agree. (A receiver
  // that closes within that turn is not expected, where one thread would
  // count its missing deliveries as loss.)
  if (phase_ == phase::settling && lead != phase::holding) {
    count_receivers();
  }
  phase_ = lead;
}

void bench_runner::count_receivers() {
  receivers_ = open_;
  for (const client_connection& connection : connections_) {
    if (connection.is_ready()) {
      ++channel_receivers_[connection.channel()];
    }
  }
  if (coordination_ != nullptr && !is_lead()) {
    coordination_->channel_receivers(follower_index()) = channel_receivers_;
    coordination_->receivers_counted.fetch_add(1, std::memory_order_release);
  }
}

void bench_runner::publish_tally() {
  follower_tally& tally = coordination_->tally(follower_index());
  tally.received_total.store(received_total_, std::memory_order_relaxed);
  tally.bytes_read.store(shared_.bytes_read, std::memory_order_relaxed);
  tally.open.store(open_, std::memory_order_relaxed);
  tally.connections_ok.store(connections_ok_, std::memory_order_relaxed);
  tally.connections_failed.store(connections_failed_, std::memory_order_relaxed);
}

namespace {

// The run-wide sum of one figure: this runner's plus each follower's tally.
template <typename Field>
std::uint64_t sum_with_tallies(const run_coordination* coordination, std::uint64_t own,
                               Field field) {
  if (coordination == nullptr) {
    return own;
  }
  for (int follower = 0; follower < coordination->followers(); ++follower) {
    own += (coordination->tally(follower).*field).load(std::memory_order_relaxed);
  }
  return own;
}

}  // namespace

std::uint64_t bench_runner::open_everywhere() const {
  return sum_with_tallies(coordination_, open_, &follower_tally::open);
}

std::uint64_t bench_runner::received_everywhere() const {
  return sum_with_tallies(coordination_, received_total_, &follower_tally::received_total);
}

std::uint64_t bench_runner::bytes_read_everywhere() const {
  return sum_with_tallies(coordination_, shared_.bytes_read, &follower_tally::bytes_read);
}

std::uint64_t bench_runner::expected_everywhere() const {
  bool all_counted = coordination_ == nullptr ||
                     coordination_->receivers_counted.load(std::memory_order_acquire) ==
                         coordination_->followers();
  std::uint64_t expected = 0;
  for (std::size_t channel = 0; channel < channel_published_.size(); ++channel) {
    if (channel_published_[channel] == 0) {
      continue;
    }
    if (!all_counted) {
      return UINT64_MAX;
    }
    std::uint64_t receivers = channel_receivers_[channel];
    if (coordination_ != nullptr) {
      for (int follower = 0; follower < coordination_->followers(); ++follower) {
        receivers += coordination_->channel_receivers(follower)[channel];
      }
    }
    expected += channel_published_[channel] * receivers;
  }
  return expected;
}

void bench_runner::absorb(const bench_runner& follower) {
  connections_ok_ += follower.connections_ok_;
  connections_failed_ += follower.connections_failed_;
  connections_closed_ += follower.connections_closed_;
  for (const auto& [code, count] : follower.close_codes_) {
    close_codes_[code] += count;
  }
  for (const auto& [reason, count] : follower.failure_reasons_) {
    failure_reasons_[reason] += count;
  }
  receivers_ += follower.receivers_;
  received_total_ += follower.received_total_;
  deliveries_window_ += follower.deliveries_window_;
  window_latency_.merge(follower.window_latency_);
  ignored_frames_ += follower.ignored_frames_;
  foreign_publications_ += follower.foreign_publications_;
  for (const auto& [code, count] : follower.command_errors_) {
    command_errors_[code] += count;
  }
}

void bench_runner::enter(phase next, std::int64_t now_ns, double seconds) {
  phase_ = next;
  phase_end_ns_ = now_ns + s_to_ns(seconds);
}

bench_runner::window_mark bench_runner::mark(std::int64_t now_ns) const {
  window_mark reading;
  reading.ns = now_ns;
  reading.bench_cpu_s = sample_self().cpu_s;
  reading.bytes_read = bytes_read_everywhere();
  if (!options_.server_pids.empty()) {
    reading.server = sample_servers(reading.servers);
  }
  return reading;
}

void bench_runner::advance_phase(std::int64_t now_ns) {
  if (coordination_ != nullptr && coordination_->aborted.load(std::memory_order_relaxed)) {
    phase_ = phase::done;
  }
  switch (phase_) {
    case phase::connecting:
      if (next_to_open_ == connections_.size() && in_progress_ == 0 &&
          (coordination_ == nullptr ||
           coordination_->still_connecting.load(std::memory_order_acquire) == 0)) {
        connect_s_ = ns_to_s(now_ns - run_start_ns_);
        if (sum_with_tallies(coordination_, connections_ok_, &follower_tally::connections_ok) ==
            0) {
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
            open_when_sampled_ = open_everywhere();
          }
          window_start_ = mark(now_ns);
          enter(phase::holding, now_ns, options_.duration_s);
        } else {
          // Loss is counted against the receivers present when publishing
          // starts: one that drops out later loses what it did not get.
          count_receivers();
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
      if (now_ns >= phase_end_ns_ || open_everywhere() == 0) {
        window_end_ = mark(now_ns);
        enter(phase::drain, now_ns, options_.drain_s);
      }
      break;
    case phase::drain:
      if (now_ns >= phase_end_ns_ || open_everywhere() == 0 ||
          received_everywhere() >= expected_everywhere()) {
        phase_ = phase::done;
      }
      break;
    case phase::holding:
      if (now_ns >= phase_end_ns_ || open_everywhere() == 0) {
        window_end_ = mark(now_ns);
        phase_ = phase::done;
      }
      break;
    case phase::done:
      break;
  }
  if (coordination_ != nullptr) {
    coordination_->lead_phase.store(static_cast<int>(phase_), std::memory_order_release);
  }
}

void bench_runner::open_connections(std::int64_t now_ns) {
  // --connect-concurrency is the run's: each thread takes its share.
  std::uint64_t concurrency = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(options_.connect_concurrency) / thread_count());
  std::int64_t deadline = now_ns + s_to_ns(options_.connect_timeout_s);
  while (next_to_open_ < connections_.size() && in_progress_ < concurrency) {
    std::size_t index = next_to_open_++;
    std::size_t run = run_index(index);
    const socket_address* source =
        target_.sources.empty() ? nullptr : &target_.sources[run % target_.sources.size()];
    // Counted before start(): a connect that fails at once reports
    // on_failed from inside it.
    ++in_progress_;
    if (is_publisher(static_cast<std::uint32_t>(index)) || target_.subscriber_endpoints.empty()) {
      connections_[index].start(target_.server, handshakes_[0], source, deadline,
                                tls_server_names_[0]);
    } else {
      std::size_t endpoint = (run - publisher_count_) % target_.subscriber_endpoints.size();
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
  if (local_publishers_ == 0) {
    return;
  }
  if (options_.rate > 0) {
    // The schedule is absolute (n-th publication at start + n / rate), so a
    // late wakeup sends what is due at once instead of drifting behind.
    auto due = static_cast<std::uint64_t>(ns_to_s(now_ns - publish_start_ns_) * options_.rate);
    while (rate_issued_ < due) {
      ++rate_issued_;
      // Round-robin over the publishers that are still connected.
      for (std::uint32_t tried = 0; tried < local_publishers_; ++tried) {
        std::uint32_t publisher = next_rate_publisher_;
        next_rate_publisher_ = (next_rate_publisher_ + 1) % local_publishers_;
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
  for (std::uint32_t publisher = 0; publisher < local_publishers_; ++publisher) {
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
  ++channel_published_[connection.channel()];
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
  if (read_interval_ns_ == 0 || is_publisher(connection.index()) || !connection.is_ready()) {
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
  // A follower neither reports progress, ends phases nor publishes: it
  // waits for its sockets, its connect timeouts and parked reads, and looks
  // at the lead's phase every follow_interval_ns.
  std::int64_t next =
      is_lead() ? last_progress_ns_ + progress_interval_ns : now_ns + follow_interval_ns;
  if (phase_ == phase::connecting) {
    next = std::min(next, now_ns + expiry_check_interval_ns);
  } else if (is_lead()) {
    next = std::min(next, phase_end_ns_);
  }
  if (coordination_ != nullptr) {
    next = std::min(next, now_ns + follow_interval_ns);
  }
  if (publishing() && options_.rate > 0 && local_publishers_ > 0) {
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
      std::fprintf(
          stderr,
          "herald-bench: %6.1fs %-10s ready %" PRIu64 "/%zu  failed %" PRIu64 "  open %" PRIu64
          "\n",
          elapsed_s, phase_name(static_cast<int>(phase_)),
          sum_with_tallies(coordination_, connections_ok_, &follower_tally::connections_ok),
          publisher_count_ + static_cast<std::size_t>(options_.subscribers),
          sum_with_tallies(coordination_, connections_failed_, &follower_tally::connections_failed),
          open_everywhere());
    } else {
      std::fprintf(
          stderr,
          "herald-bench: %6.1fs %-10s deliveries/s %.0f  published/s %.0f  open %" PRIu64
          "  p99 %.3f ms\n",
          elapsed_s, phase_name(static_cast<int>(phase_)),
          static_cast<double>(received_everywhere() - received_at_last_progress_) / interval_s,
          static_cast<double>(interval_published_) / interval_s, open_everywhere(),
          static_cast<double>(interval_latency_.percentile_ns(99)) / 1e6);
    }
  }
  interval_latency_.reset();
  received_at_last_progress_ = received_everywhere();
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
  if (!options_.quiet && is_lead()) {
    interval_latency_.record(latency_ns);
  }
  if (is_publisher(connection.index()) && connection.index() == stamp.publisher) {
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
  if (is_publisher(connection.index())) {
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
  r.threads = static_cast<int>(thread_count());

  bool window_measured = window_end_.ns > window_start_.ns && window_start_.ns > 0;
  if (window_measured) {
    r.window_s = ns_to_s(window_end_.ns - window_start_.ns);
    r.bench_cpu_s = window_end_.bench_cpu_s - window_start_.bench_cpu_s;
    r.received_bytes = window_end_.bytes_read - window_start_.bytes_read;
    if (window_start_.server && window_end_.server) {
      r.server_cpu_s = window_end_.server->cpu_s - window_start_.server->cpu_s;
      r.server_user_cpu_s = window_end_.server->user_cpu_s - window_start_.server->user_cpu_s;
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
  r.expected_total = expected_everywhere();
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
