#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "herald/core/channel_policy.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/stream_position.hpp"

// What a client-protocol session asks of the broadcaster, as plain values:
// the session (transport side) decodes the command and verifies tokens,
// the connection actor forwards it, and the broadcaster decides it with
// core::channel_policy against the state it owns (who is subscribed,
// history, presence) and answers through the session's deliveries.
namespace herald::core {

// Who a connection is, once its connect command succeeded: what presence,
// join/leave, the channel policy and the server API's unsubscribe and
// disconnect by user need.
struct client_identity {
  std::string client_id;  // the id its connect reply gave it
  std::string user;       // "" for an anonymous client
  std::string conn_info;  // the connect token's `info`, raw JSON; "" if none
};

// Where a recovering client left off (SubscribeRequest's recover, offset,
// epoch; or a connect's `subs` entry for a server-side subscription).
struct recovery_point {
  bool recover = false;      // the client asks for what it missed
  std::uint64_t offset = 0;  // ... after this offset
  std::string epoch;         // ... of this stream
};

// A client's subscribe. The broadcaster refuses it or registers it, and
// its reply (in both cases a delivery) tells the session which.
struct subscription_request {
  std::uint32_t id = 0;  // the command's id, for the reply
  // Which of the session's subscriptions to the channel this is: the reply
  // and any later server-side unsubscribe name it, so that news of an
  // earlier subscription never applies to a later one.
  std::uint32_t generation = 0;
  subscription_ask ask;  // the channel token's outcome, what the client asks for
  recovery_point from;
  std::int64_t flag = 0;  // SubscribeRequest.flag; bit 2: refuse unrecovered (112)
  std::string chan_info;  // the channel token's `info`, raw JSON; "" if none
  bool expires = false;   // the channel token has `exp` ...
  std::uint32_t ttl = 0;  // ... this many seconds from now
};

// A subscription a connect token's `channels` asks the server to make.
struct server_side_subscription {
  std::string channel;
  std::uint32_t generation = 0;
  recovery_point from;  // from the connect's `subs`, where the client sent one
};

// A connect the session accepted (its token checked out). The broadcaster
// makes the client known, then makes the server-side subscriptions its
// namespaces know, and sends the connect reply, whose `subs` carry their
// results (positions, recovered publications), ahead of their pushes. So a
// client that has its connect reply is known to presence and the server API.
struct connect_request {
  std::uint32_t id = 0;
  client_identity identity;
  client_protocol::connect_result result;  // all but `subs`, which the broadcaster fills
  std::vector<server_side_subscription> subscriptions;
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
