#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald::core {

// Where the Redis engine keeps a channel's state, and the pub/sub channels
// nodes talk on, all under one prefix (the redis-prefix setting) so that
// several clusters can share a Redis. Centrifugo's layout, but for the
// meta hash: Centrifugo's `.stream.meta.<channel>` is also the stream key
// of channel `meta.<channel>`, so that channel could wipe the other's
// position. Here the segment after the prefix names the kind, and no
// channel name can make one kind's key another's:
//   <prefix>.stream.<channel>          the publications (a Redis stream)
//   <prefix>.meta.<channel>            its offset and epoch (a hash)
//   <prefix>.client.<channel>          the channel's pub/sub channel
//   <prefix>.presence.data.<channel>   client id -> client info (a hash)
//   <prefix>.presence.expire.<channel> client id -> expiry, unix s (a zset)
//   <prefix>.presence.user.<channel>   client id -> user id (a hash)
//   <prefix>.control                   nodes' announcements and commands
class redis_keys {
 public:
  explicit redis_keys(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string stream(std::string_view channel) const { return join(".stream.", channel); }
  std::string stream_meta(std::string_view channel) const { return join(".meta.", channel); }
  std::string pubsub(std::string_view channel) const { return join(".client.", channel); }
  std::string presence_data(std::string_view channel) const {
    return join(".presence.data.", channel);
  }
  std::string presence_expire(std::string_view channel) const {
    return join(".presence.expire.", channel);
  }
  std::string presence_users(std::string_view channel) const {
    return join(".presence.user.", channel);
  }
  std::string control() const { return prefix_ + ".control"; }

  // The Herald channel a pub/sub channel carries; nullopt for another.
  std::optional<std::string_view> channel_of_pubsub(std::string_view pubsub) const;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string join(std::string_view infix, std::string_view channel) const {
    std::string key;
    key.reserve(prefix_.size() + infix.size() + channel.size());
    key.append(prefix_).append(infix).append(channel);
    return key;
  }

  std::string prefix_;
};

}  // namespace herald::core
