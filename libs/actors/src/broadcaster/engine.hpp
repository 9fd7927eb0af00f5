#pragma once

// The seam between the broadcaster and where channels' publications,
// streams and presence live. The broadcaster owns what is this node's (who
// is subscribed here, the rounds, the connections); the engine owns what
// every node serving the channel space must agree on: the order of a
// channel's publications and their offsets, history, presence, and the
// messages nodes send each other. Two engines:
//  - memory_engine: one node; answers at once, on the broadcaster's thread;
//  - shared_engine: several nodes on Redis; answers later, on the
//    broadcaster's thread too (see redis::redis_engine).
// Every publication reaches this node's subscribers through the receiver's
// publication(), whatever its source: one path, not a local shortcut plus a
// remote one. Continuations run on the broadcaster's thread, in the order
// the engine learnt things; a failed call gets nullopt (or false).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "herald/core/channel_history.hpp"
#include "herald/core/engine_codec.hpp"
#include "herald/core/frame.hpp"
#include "herald/core/presence.hpp"
#include "herald/core/stream_position.hpp"

namespace herald::actors::broadcaster_parts {

using history_publications = std::vector<core::history_publication<core::publication_ptr>>;

class channel_engine {
 public:
  // What the engine hands the broadcaster.
  struct receiver {
    // A publication of `channel`, with its offset (0 without history).
    std::function<void(const std::string& channel, core::publication_ptr publication,
                       std::uint64_t offset)>
        publication;
    // A client joined or left `channel` (on any node).
    std::function<void(const std::string& channel, const core::engine_presence_change& change)>
        presence_change;
    // A control message (the server API's unsubscribe and disconnect, and
    // nodes' announcements).
    std::function<void(core::control_message&& message)> control;
    // Publications on these channels may have been missed (the engine lost
    // its subscription, or saw a gap in the offsets).
    std::function<void(const std::vector<std::string>& channels)> interrupted;
  };

  virtual ~channel_engine() = default;

  // Whether other nodes share the channel space.
  virtual bool shared() const = 0;

  virtual void publish(const std::string& channel, core::publication_ptr publication,
                       const core::history_options& history,
                       std::function<void(std::optional<core::stream_position>)> done) = 0;

  // This node wants (or no longer wants) `channel`'s publications.
  virtual void watch(const std::string& channel, std::function<void(bool)> done) = 0;
  virtual void unwatch(const std::string& channel) = 0;
  // `done(true)` once every publication of `channel` made before now has
  // reached the receiver (false: the engine cannot tell). A subscription
  // whose position was just read waits for it, so that no publication
  // older than the position arrives after the subscriber joined.
  virtual void sync(const std::string& channel, std::function<void(bool)> done) = 0;

  // The stream's top (made if the channel has no position yet).
  virtual void position(const std::string& channel,
                        std::function<void(std::optional<core::stream_position>)> done) = 0;
  // channel_history::recover's contract.
  virtual void recover(
      const std::string& channel, std::uint64_t since_offset, const std::string& since_epoch,
      std::size_t max_publications,
      std::function<void(std::optional<core::recovery_result<core::publication_ptr>>)> done) = 0;
  // channel_history::history's contract.
  virtual void history(
      const std::string& channel, const std::optional<core::stream_position>& since,
      std::int64_t limit, bool reverse,
      std::function<void(std::optional<core::history_result<core::publication_ptr>>)> done) = 0;
  virtual void remove_history(const std::string& channel, std::function<void(bool)> done) = 0;

  // Presence: join gives whether the client is new to the channel (and,
  // with `announce`, then pushes its join); leave pushes the leave with
  // `announce` if the client was there.
  virtual void join(const std::string& channel, const std::string& client_id,
                    const core::client_info& info, bool announce,
                    std::function<void(std::optional<bool>)> done) = 0;
  virtual void leave(const std::string& channel, const std::string& client_id, bool announce) = 0;
  virtual void presence(
      const std::string& channel,
      std::function<void(std::optional<core::presence_registry::shared_client_map>)> done) = 0;
  virtual void presence_stats(const std::string& channel,
                              std::function<void(std::optional<core::presence_stats>)> done) = 0;

  // To every node, this one included (through receiver::control).
  virtual void control(core::control_message message) = 0;

  // Once a second: expiries and figures.
  virtual void tick() = 0;
};

}  // namespace herald::actors::broadcaster_parts
