#pragma once

// Reading what Redis answers the engine's commands and scripts. Each parser
// takes one reply tree and returns its typed content, or nullopt when the
// reply has another shape than the command makes: an error reply, a wrong
// type, a malformed payload, more entries than asked for. The engine turns
// nullopt into an error for that command; nothing here trusts the reply.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "herald/core/channel_history.hpp"
#include "herald/core/frame.hpp"
#include "herald/core/presence.hpp"
#include "herald/core/resp_value.hpp"
#include "herald/core/stream_position.hpp"

namespace herald::core {

// An unsigned integer reply, or a bulk string holding one (Lua numbers come
// back as integers, hash fields as strings).
std::optional<std::uint64_t> unsigned_of(const resp_value& value);

// The publish script's {offset, epoch}.
std::optional<stream_position> parse_stream_position(const resp_value& value);

// The stream script's {top offset, epoch, entries or nil}: the position and
// the publications in the order Redis returned them. At most `max_entries`.
struct stream_read {
  stream_position position;
  std::vector<history_publication<publication_ptr>> publications;
};
std::optional<stream_read> parse_stream_read(const resp_value& value, std::size_t max_entries);

// Whether a client at `since_offset` of `since_epoch` is recovered by `read`
// (the publications after since_offset, asked for with a count of
// max_publications + 1): the epoch matches (an empty one is not checked),
// the offset is not ahead of the top, at most max_publications are missing
// and all of them are there, from since_offset + 1 to the top. The memory
// engine's rule (channel_history::recover), applied to what Redis holds.
bool is_recovered(const stream_read& read, std::uint64_t since_offset,
                  const std::string& since_epoch, std::size_t max_publications);

// The presence script's flat {client id, client info, ...}.
std::optional<std::unordered_map<std::string, client_info>> parse_presence(const resp_value& value);

// The presence stats script's {clients, users}.
std::optional<presence_stats> parse_presence_stats(const resp_value& value);

// What a connection in subscribed mode receives: a message on a channel, or
// the confirmation of a subscribe or an unsubscribe.
struct pubsub_event {
  enum class kind { message, subscribed, unsubscribed, pong };
  kind what = kind::message;
  std::string channel;
  std::string payload;  // message only
};
std::optional<pubsub_event> parse_pubsub_event(resp_value&& value);

}  // namespace herald::core
