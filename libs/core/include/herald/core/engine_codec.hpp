#pragma once

// What Herald nodes store in Redis and send each other through it: a
// publication's payload (in a channel's stream and on its pub/sub channel),
// presence entries and join/leave, and the control channel's messages.
// Herald's own format, binary-safe: fields are netstrings ("<length>:<bytes>")
// behind a one-letter tag, so that a payload is never parsed as JSON on the
// hot path and a malformed one is refused, never half-read. Everything
// decoded here came over the network: decoders return nullopt for anything
// that is not exactly what the encoders make.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "herald/core/frame.hpp"
#include "herald/core/presence.hpp"

namespace herald::core {

// A publication's data and, when a client published it, who did.
std::string encode_publication_payload(const publication& item);
std::optional<publication_ptr> decode_publication_payload(std::string_view payload);

// A presence entry's value: who the client is (its id is the entry's key).
std::string encode_client_info(const client_info& info);
std::optional<client_info> decode_client_info(std::string_view text);

// What arrives on a channel's pub/sub channel: a publication, with its place
// in the stream (offset 0 and no epoch when the channel keeps no history),
// or a client's join or leave.
//   __p1:<offset>:<epoch>__<publication payload>   (the publish script makes it)
//   __j__<client id netstring><client info>        join
//   __l__<client id netstring><client info>        leave
struct engine_publication {
  std::uint64_t offset = 0;
  std::string epoch;
  publication_ptr publication;
};

struct engine_presence_change {
  bool join = true;
  std::string client_id;
  client_info info;
};

using engine_message = std::variant<engine_publication, engine_presence_change>;

// A publication of a channel without history, as published directly.
std::string encode_unpositioned_publication(const publication& item);
std::string encode_presence_change(const engine_presence_change& change);
std::optional<engine_message> decode_engine_message(std::string_view message);

// The control channel: what each node says about itself every few seconds
// (for the server API's info), the server API's unsubscribe and
// disconnect, which every node carries out for its own connections, and its
// channels survey.
struct node_announcement {
  std::string uid;  // this incarnation of the node
  std::string name;
  std::string version;
  std::uint64_t uptime = 0;  // seconds
  std::uint64_t num_clients = 0;
  std::uint64_t num_users = 0;
  std::uint64_t num_subs = 0;
  std::uint64_t num_channels = 0;
};

struct unsubscribe_command {
  std::string user;
  std::string client;   // empty: every connection of the user
  std::string channel;  // empty: every channel
};

struct disconnect_command {
  std::string user;
  std::string client;  // empty: every connection of the user
  std::uint32_t code = 0;
  std::string reason;
  std::vector<std::string> whitelist;  // client ids spared
};

// The server API's channels, asked of every node: each answers with its
// channels that match the pattern and their subscriber counts, and the node
// that asked adds them up.
struct channels_survey {
  std::string id;  // the asking node's uid and a sequence number
  std::string pattern;
};

struct channels_answer {
  std::string id;                                               // the survey's
  std::string origin;                                           // the uid of the node that answers
  std::vector<std::pair<std::string, std::uint64_t>> channels;  // name, subscribers
};

using control_message = std::variant<node_announcement, unsubscribe_command, disconnect_command,
                                     channels_survey, channels_answer>;

std::string encode_control_message(const control_message& message);
std::optional<control_message> decode_control_message(std::string_view message);

}  // namespace herald::core
