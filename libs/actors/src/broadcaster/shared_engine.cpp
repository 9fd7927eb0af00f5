#include "shared_engine.hpp"

#include <caf/send.hpp>

#include "herald/log/log.hpp"
#include "herald/log/rate_limit.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

// Most publications one history read returns (a trusted API call may ask for
// every retained one; Redis holds at most history-size of them).
constexpr std::size_t most_read_entries = 1u << 20;

}  // namespace

shared_engine::shared_engine(redis::engine_settings settings, receiver to_broadcaster,
                             std::shared_ptr<broadcast_counters> counters,
                             std::chrono::seconds meta_ttl, caf::actor_addr broadcaster)
    : to_broadcaster_(std::move(to_broadcaster)),
      counters_(std::move(counters)),
      meta_ttl_(meta_ttl) {
  counters_->engine_shared.store(true, std::memory_order_relaxed);
  // One engine_atom per batch: the first item of an empty queue sends it,
  // and the broadcaster takes everything queued by then.
  auto run_on_broadcaster = [queue = queue_, broadcaster](std::function<void()> work) {
    bool first = false;
    {
      std::lock_guard<std::mutex> guard{queue->lock};
      first = queue->items.empty();
      queue->items.push_back(std::move(work));
    }
    if (first) {
      if (auto actor = caf::actor_cast<broadcaster_actor>(broadcaster)) {
        caf::anon_send(actor, engine_atom::value);
      }
    }
  };
  redis::redis_engine::events events;
  events.message = [this](const std::string& channel, core::engine_message&& message) {
    received(channel, std::move(message));
  };
  events.control = [this](core::control_message&& message) {
    to_broadcaster_.control(std::move(message));
  };
  events.interrupted = [this](std::vector<std::string>&& channels) {
    for (const auto& channel : channels) {
      last_seen_.erase(channel);
    }
    interruptions_ += channels.size();
    log::warn("engine interrupted: pub/sub lost, positioned subscribers told to recover",
              {{"channels", channels.size()}});
    to_broadcaster_.interrupted(channels);
  };
  redis_ = std::make_unique<redis::redis_engine>(std::move(settings), std::move(run_on_broadcaster),
                                                 std::move(events));
}

shared_engine::~shared_engine() = default;

void shared_engine::run_queued() {
  {
    std::lock_guard<std::mutex> guard{queue_->lock};
    running_.swap(queue_->items);
  }
  for (auto& item : running_) {
    item();
  }
  running_.clear();
}

void shared_engine::received(const std::string& channel, core::engine_message&& message) {
  if (auto* change = std::get_if<core::engine_presence_change>(&message)) {
    to_broadcaster_.presence_change(channel, *change);
    return;
  }
  auto& item = std::get<core::engine_publication>(message);
  if (item.offset != 0 && watched_.count(channel) != 0) {
    // Offsets of one epoch follow each other; a step past the next one (a
    // lost message) or a new epoch under a watched channel means this node
    // cannot vouch for what its subscribers have: they recover.
    auto [last, inserted] = last_seen_.try_emplace(channel);
    const bool gap =
        !inserted && (last->second.epoch != item.epoch || item.offset != last->second.offset + 1);
    if (!inserted && last->second.epoch == item.epoch && item.offset <= last->second.offset) {
      return;  // seen already
    }
    last->second = core::stream_position{item.offset, item.epoch};
    if (gap) {
      ++interruptions_;
      // One line per gap would be one per publication while a Redis drops
      // them: limited like the lines clients cause.
      static log::line_limit gap_lines;
      log::warn(gap_lines,
                "engine interrupted: a gap in a channel's offsets, its subscribers "
                "told to recover",
                {{"channel", channel}});
      to_broadcaster_.interrupted({channel});
    }
  }
  to_broadcaster_.publication(channel, std::move(item.publication), item.offset);
}

void shared_engine::publish(const std::string& channel, core::publication_ptr publication,
                            const core::history_options& history,
                            std::function<void(std::optional<core::stream_position>)> done) {
  redis_->publish(channel, *publication, history, meta_ttl_, std::move(done));
}

void shared_engine::watch(const std::string& channel, std::function<void(bool)> done) {
  watched_.insert(channel);
  redis_->subscribe(channel, std::move(done));
}

void shared_engine::unwatch(const std::string& channel) {
  watched_.erase(channel);
  last_seen_.erase(channel);
  redis_->unsubscribe(channel);
}

void shared_engine::sync(const std::string& channel, std::function<void(bool)> done) {
  redis_->sync(channel, std::move(done));
}

void shared_engine::position(const std::string& channel,
                             std::function<void(std::optional<core::stream_position>)> done) {
  redis::redis_engine::stream_query query;
  query.with_publications = false;
  redis_->read_stream(
      channel, query, meta_ttl_, 0,
      [done = std::move(done)](std::optional<core::stream_read> read) {
        done(read ? std::optional<core::stream_position>{read->position} : std::nullopt);
      });
}

void shared_engine::recover(
    const std::string& channel, std::uint64_t since_offset, const std::string& since_epoch,
    std::size_t max_publications,
    std::function<void(std::optional<core::recovery_result<core::publication_ptr>>)> done) {
  redis::redis_engine::stream_query query;
  query.since = since_offset + 1;
  query.limit = max_publications + 1;  // one more tells "too many" from "all"
  redis_->read_stream(channel, query, meta_ttl_, query.limit,
                      [since_offset, since_epoch, max_publications,
                       done = std::move(done)](std::optional<core::stream_read> read) {
                        if (!read) {
                          done(std::nullopt);
                          return;
                        }
                        core::recovery_result<core::publication_ptr> result;
                        result.position = read->position;
                        result.recovered =
                            core::is_recovered(*read, since_offset, since_epoch, max_publications);
                        if (result.recovered) {
                          result.publications = std::move(read->publications);
                        }
                        done(std::move(result));
                      });
}

void shared_engine::history(
    const std::string& channel, const std::optional<core::stream_position>& since,
    std::int64_t limit, bool reverse,
    std::function<void(std::optional<core::history_result<core::publication_ptr>>)> done) {
  // Checked before Redis is asked, as the memory engine does.
  if (since && reverse && since->offset == 0) {
    position(channel, [done = std::move(done)](std::optional<core::stream_position> top) {
      if (!top) {
        done(std::nullopt);
        return;
      }
      core::history_result<core::publication_ptr> result;
      result.error = core::history_error::bad_request;
      result.position = std::move(*top);
      done(std::move(result));
    });
    return;
  }
  redis::redis_engine::stream_query query;
  query.with_publications = limit != 0;
  query.reverse = reverse;
  query.limit = limit < 0 ? 0 : static_cast<std::size_t>(limit);
  if (since) {
    // After `since` going up, before it going down.
    query.since = reverse ? since->offset - 1 : since->offset + 1;
  }
  redis_->read_stream(
      channel, query, meta_ttl_, limit < 0 ? most_read_entries : query.limit,
      [since, done = std::move(done)](std::optional<core::stream_read> read) {
        if (!read) {
          done(std::nullopt);
          return;
        }
        core::history_result<core::publication_ptr> result;
        result.position = std::move(read->position);
        if (since && !since->epoch.empty() && since->epoch != result.position.epoch) {
          result.error = core::history_error::unrecoverable_position;
        } else {
          result.publications = std::move(read->publications);
        }
        done(std::move(result));
      });
}

void shared_engine::remove_history(const std::string& channel, std::function<void(bool)> done) {
  redis_->remove_history(channel, std::move(done));
}

void shared_engine::join(const std::string& channel, const std::string& client_id,
                         const core::client_info& info, bool announce,
                         std::function<void(std::optional<bool>)> done) {
  redis_->add_presence(channel, client_id, info, announce, std::move(done));
}

void shared_engine::leave(const std::string& channel, const std::string& client_id, bool announce) {
  redis_->remove_presence(channel, client_id, announce);
}

void shared_engine::presence(
    const std::string& channel,
    std::function<void(std::optional<core::presence_registry::shared_client_map>)> done) {
  redis_->presence(channel, [done = std::move(done)](auto clients) {
    if (!clients) {
      done(std::nullopt);
      return;
    }
    done(std::make_shared<const core::presence_registry::client_map>(std::move(*clients)));
  });
}

void shared_engine::presence_stats(const std::string& channel,
                                   std::function<void(std::optional<core::presence_stats>)> done) {
  redis_->presence_stats(channel, std::move(done));
}

void shared_engine::control(core::control_message message) {
  redis_->send_control(message);
}

void shared_engine::tick() {
  const auto& figures = redis_->figures();
  constexpr auto relaxed = std::memory_order_relaxed;
  counters_->engine_up.store(figures.up.load(relaxed), relaxed);
  counters_->engine_reconnects.store(figures.reconnects.load(relaxed), relaxed);
  counters_->engine_publish_errors.store(figures.publish_errors.load(relaxed), relaxed);
  counters_->engine_commands.store(figures.commands.load(relaxed), relaxed);
  counters_->engine_writes.store(figures.writes.load(relaxed), relaxed);
  counters_->engine_round_trip_us.store(figures.round_trip_us.load(relaxed), relaxed);
  counters_->engine_interruptions.store(interruptions_, relaxed);
}

}  // namespace herald::actors::broadcaster_parts
