#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "herald/core/stream_position.hpp"

// What a client-protocol session asks of the broadcaster, as plain values:
// the session (transport side) builds them, the connection actor forwards
// them, the broadcaster answers through the session's deliveries. The
// session has already checked permissions; the broadcaster owns the state
// (history, presence, who is subscribed) and answers from it.
namespace herald::core {

// Who a connection is, once its connect command succeeded: what presence,
// join/leave and the server API's unsubscribe/disconnect by user need.
struct client_identity {
  std::string client_id;  // the id its connect reply gave it
  std::string user;       // "" for an anonymous client
  std::string conn_info;  // the connect token's `info`, raw JSON; "" if none
};

// A subscribe as the broadcaster needs it: the command's id for the reply,
// what the client asked for (SubscribeRequest's fields) and where a
// recovering client left off.
struct join_request {
  std::uint32_t id = 0;
  bool recover = false;      // the client asks for what it missed
  std::uint64_t offset = 0;  // ... after this offset
  std::string epoch;         // ... of this stream
  bool recoverable = false;  // the client wants recovery (allow-recovery decides)
  bool positioned = false;   // the client wants positions (allow-positioning decides)
  bool join_leave = false;   // the client wants join/leave pushes
  std::int64_t flag = 0;     // SubscribeRequest.flag; bit 2: refuse unrecovered (112)
  std::string chan_info;     // the channel token's `info`, raw JSON; "" if none
  bool expires = false;      // the channel token has `exp` ...
  std::uint32_t ttl = 0;     // ... this many seconds from now
  // Which of the session's subscriptions to the channel this is: a kick
  // (kick_atom) names it, so that one meant for an earlier subscription
  // never ends a later one.
  std::uint32_t generation = 0;
};

// A connect whose token names channels (server-side subscriptions): the
// broadcaster subscribes them and builds the connect reply, whose `subs`
// carry their results (positions, recovered publications).
struct connect_reply_request {
  std::uint32_t id = 0;
  std::string client;
  std::string version;
  bool expires = false;
  std::uint32_t ttl = 0;
  std::uint32_t ping = 0;
  bool pong = false;
  std::vector<std::pair<std::string, join_request>> subs;
};

// A read of a channel's state: presence, presence_stats or history.
struct channel_query {
  enum class kind { presence, presence_stats, history };
  kind what = kind::presence;
  std::uint32_t id = 0;  // the command's id, for the reply
  // history only
  std::int64_t limit = 0;
  std::optional<stream_position> since;
  bool reverse = false;
};

}  // namespace herald::core
