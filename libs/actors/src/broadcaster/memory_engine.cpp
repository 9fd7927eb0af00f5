#include "memory_engine.hpp"

#include "herald/log/log.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

std::chrono::steady_clock::time_point now() {
  return std::chrono::steady_clock::now();
}

}  // namespace

memory_engine::memory_engine(receiver to_broadcaster, std::shared_ptr<broadcast_counters> counters,
                             std::chrono::seconds meta_ttl, std::size_t max_channels)
    : to_broadcaster_(std::move(to_broadcaster)), counters_(std::move(counters)) {
  history_.set_limits(meta_ttl, max_channels);
}

void memory_engine::publish(const std::string& channel, core::publication_ptr publication,
                            const core::history_options& history,
                            std::function<void(std::optional<core::stream_position>)> done) {
  const core::stream_position position = history.enabled()
                                             ? history_.append(channel, publication, now(), history)
                                             : core::stream_position{};
  to_broadcaster_.publication(channel, std::move(publication), position.offset);
  done(position);
}

void memory_engine::position(const std::string& channel,
                             std::function<void(std::optional<core::stream_position>)> done) {
  done(history_.position(channel, now()));
}

void memory_engine::recover(
    const std::string& channel, std::uint64_t since_offset, const std::string& since_epoch,
    std::size_t max_publications,
    std::function<void(std::optional<core::recovery_result<core::publication_ptr>>)> done) {
  done(history_.recover(channel, since_offset, since_epoch, now(), max_publications));
}

void memory_engine::history(
    const std::string& channel, const std::optional<core::stream_position>& since,
    std::int64_t limit, bool reverse,
    std::function<void(std::optional<core::history_result<core::publication_ptr>>)> done) {
  done(history_.history(channel, since, limit, reverse, now()));
}

void memory_engine::remove_history(const std::string& channel, std::function<void(bool)> done) {
  history_.remove(channel);
  done(true);
}

void memory_engine::join(const std::string& channel, const std::string& client_id,
                         const core::client_info& info, bool announce,
                         std::function<void(std::optional<bool>)> done) {
  const bool is_new = presence_.join(channel, client_id, info);
  if (is_new && announce) {
    to_broadcaster_.presence_change(channel, core::engine_presence_change{true, client_id, info});
  }
  done(is_new);
}

void memory_engine::leave(const std::string& channel, const std::string& client_id, bool announce) {
  if (auto info = presence_.leave(channel, client_id); info && announce) {
    to_broadcaster_.presence_change(
        channel, core::engine_presence_change{false, client_id, std::move(*info)});
  }
}

void memory_engine::presence(
    const std::string& channel,
    std::function<void(std::optional<core::presence_registry::shared_client_map>)> done) {
  // A snapshot costs a reference count, however many clients the channel
  // holds; the copy, if any, falls on the next change while it is held.
  done(presence_.snapshot(channel));
}

void memory_engine::presence_stats(const std::string& channel,
                                   std::function<void(std::optional<core::presence_stats>)> done) {
  done(presence_.stats(channel));
}

void memory_engine::control(core::control_message message) {
  to_broadcaster_.control(std::move(message));
}

void memory_engine::tick() {
  history_.sweep(now());
  const std::uint64_t evictions = history_.evictions();
  counters_->history_channels.store(history_.channel_count(), std::memory_order_relaxed);
  counters_->history_evictions.store(evictions, std::memory_order_relaxed);
  // What clients can make the server remember is capped: say so when the
  // cap bites, at most once a minute, however often it does.
  if (evictions != evictions_at_report_ && now() - evictions_reported_ >= std::chrono::minutes{1}) {
    log::warn(
        "history-max-channels reached: channel positions forgotten, the least recently used first",
        {{"forgotten_total", evictions}, {"since_last_report", evictions - evictions_at_report_}});
    evictions_reported_ = now();
    evictions_at_report_ = evictions;
  }
}

}  // namespace herald::actors::broadcaster_parts
