#pragma once

// The Redis engine: what several Herald nodes share through Redis, so that
// they serve one channel space. Channels are sharded over the configured
// instances (core::shard_of); each instance holds its channels' pub/sub,
// streams and presence. Every call returns at once: the work runs on the
// engine's own thread, which owns the sockets (Asio, with hiredis' RESP
// parser), and every result and event comes back through the owner's
// executor, in the order the engine saw them. That order is what makes a
// subscription exact: a channel's subscribed() result comes before the
// first publication received on it.
//
// No CAF and no Asio in this header: the broadcaster's adapter includes it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "herald/core/channel_history.hpp"
#include "herald/core/engine_codec.hpp"
#include "herald/core/presence.hpp"
#include "herald/core/redis_replies.hpp"
#include "herald/redis/server_address.hpp"

namespace herald::redis {

struct engine_settings {
  std::vector<server_address> shards;  // at least one
  std::string user;
  std::string password;
  unsigned db = 0;
  std::string prefix = "herald";
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds io_timeout{4000};
  // A presence entry lives this long unless its node refreshes it (every
  // third of it), so that a node that dies leaves no one behind for longer.
  std::chrono::seconds presence_ttl{60};
};

// Figures for /metrics, readable from any thread.
struct engine_figures {
  std::atomic<bool> up{false};  // every shard's connections are ready
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> publish_errors{0};
  std::atomic<std::uint64_t> commands{0};
  std::atomic<std::uint64_t> writes{0};         // socket writes carrying them
  std::atomic<std::uint64_t> round_trip_us{0};  // the last command's, any shard
};

class redis_engine {
 public:
  // Runs a piece of the owner's work on the owner's thread, in the order
  // given.
  using executor = std::function<void(std::function<void()>)>;

  // What the engine tells the owner, through the executor.
  struct events {
    // A publication, join or leave received on a channel this node is
    // subscribed to.
    std::function<void(const std::string& channel, core::engine_message&& message)> message;
    // A message on the control channel, this node's own included.
    std::function<void(core::control_message&& message)> control;
    // These channels' subscriptions were interrupted (their shard's pub/sub
    // connection was lost): publications may have been missed on them. They
    // are subscribed again when the shard is back.
    std::function<void(std::vector<std::string>&& channels)> interrupted;
  };

  redis_engine(engine_settings settings, executor run_on_owner, events on);
  ~redis_engine();
  redis_engine(const redis_engine&) = delete;
  redis_engine& operator=(const redis_engine&) = delete;

  // Each `done` runs through the executor; nullopt or false: Redis could not
  // be asked (down) or answered something unexpected.

  // Publishes into `channel`: with history (options enabled) through the
  // publish script, which gives the publication its offset; without, as a
  // plain PUBLISH ({0, ""}). Every subscribed node receives it, this one
  // too, through events::message.
  void publish(const std::string& channel, const core::publication& item,
               const core::history_options& history, std::chrono::seconds meta_ttl,
               std::function<void(std::optional<core::stream_position>)> done);

  // This node wants `channel`'s publications: `done(true)` once Redis
  // confirmed the subscription (at once if it had), false if it cannot.
  void subscribe(const std::string& channel, std::function<void(bool)> done);
  // This node no longer wants them.
  void unsubscribe(const std::string& channel);
  // `done(true)` once every message Redis published on `channel` before now
  // has been received (a PING through the channel's pub/sub connection,
  // whose pong comes behind them); false if that connection is down. A
  // subscription whose position was read waits for it, so that nothing
  // published before the read arrives after the subscriber joined.
  void sync(const std::string& channel, std::function<void(bool)> done);

  // A stream read: from entry `since` (an offset; nullopt: the oldest, or
  // the newest when `reverse`) up, or down when `reverse`, at most `limit`
  // (0: none) entries; or only the position when `with_publications` is
  // false. Gives the channel a position (meta) if it had none.
  struct stream_query {
    bool with_publications = true;
    std::optional<std::uint64_t> since;
    std::size_t limit = 0;
    bool reverse = false;
  };
  void read_stream(const std::string& channel, const stream_query& query,
                   std::chrono::seconds meta_ttl, std::size_t max_entries,
                   std::function<void(std::optional<core::stream_read>)> done);
  // Drops the stream's publications; its position stays.
  void remove_history(const std::string& channel, std::function<void(bool)> done);

  // Adds (or refreshes) a client's presence; with `announce`, a client new
  // to the channel has its join published to the channel's subscribers.
  // `done` gets whether it was new.
  void add_presence(const std::string& channel, const std::string& client_id,
                    const core::client_info& info, bool announce,
                    std::function<void(std::optional<bool>)> done);
  // Removes it; with `announce`, its leave is published if it was there.
  // The info is this node's record of the entry (add_presence's): a node
  // removes only its own clients.
  void remove_presence(const std::string& channel, const std::string& client_id, bool announce);
  void presence(
      const std::string& channel,
      std::function<void(std::optional<std::unordered_map<std::string, core::client_info>>)> done);
  void presence_stats(const std::string& channel,
                      std::function<void(std::optional<core::presence_stats>)> done);

  // Publishes on the control channel, to every node (this one included).
  void send_control(const core::control_message& message);

  const engine_figures& figures() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace herald::redis
