#pragma once

// Centrifugo's server HTTP API, v5 style: `POST /api/<method>` with
// the method's parameters as the JSON body, answered with `{"result":{..}}`
// or `{"error":{"code":N,"message":".."}}` (HTTP 200 both). Pure codec: no
// sockets, no actors, no channel state; the HTTP layer checks the API key,
// that the request is a POST (Centrifugo answers 405 otherwise) and the body
// size, then calls decode() with the path segment after `/api/`.
//
// Where it follows Centrifugo, where it differs on input no API client
// sends, and what cent.js relies on: docs/centrifugo-compatibility.md,
// "Server API: how the codec was checked".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "herald/core/client_protocol.hpp"
#include "herald/core/stream_position.hpp"

namespace herald::core::server_api {

// ---------------------------------------------------------------------------
// Errors (centrifugo internal/apiproto/errors.go, v5)
// ---------------------------------------------------------------------------

// `{"error":{"code":C,"message":".."}}`, sent with HTTP 200.
struct api_error {
  std::uint32_t code;
  std::string_view message;
};

constexpr bool operator==(const api_error& a, const api_error& b) {
  return a.code == b.code && a.message == b.message;
}
constexpr bool operator!=(const api_error& a, const api_error& b) {
  return !(a == b);
}

namespace errors {
inline constexpr api_error internal{100, "internal server error"};
inline constexpr api_error unknown_channel{102, "unknown channel"};
inline constexpr api_error method_not_found{104, "method not found"};
inline constexpr api_error bad_request{107, "bad request"};
inline constexpr api_error not_available{108, "not available"};
inline constexpr api_error unrecoverable_position{112, "unrecoverable position"};
}  // namespace errors

// A channel's longest name, as on the client protocol.
inline constexpr std::size_t max_channel_bytes = client_protocol::max_channel_bytes;
// JSON nesting accepted in a body, `data` included.
inline constexpr std::size_t max_json_depth = client_protocol::max_json_depth;

// The close code and reason a `disconnect` without its `disconnect` object
// uses (centrifuge's DisconnectForceNoReconnect).
inline constexpr client_protocol::disconnect_advice default_disconnect =
    client_protocol::disconnects::force_no_reconnect;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------
// `data` is the request's JSON value as compact text, the publisher's own
// tokens kept (numbers are not re-formatted); JSON null is kept as `null`, as
// Centrifugo publishes it. Members Centrifugo accepts but Herald does not use
// (`tags`, `idempotency_key`, `delta`) are type-checked, then ignored.

using core::stream_position;

struct publish_request {
  std::string channel;
  std::string data;  // never empty
  bool skip_history = false;
};

// Each channel must be checked on its own (valid_channel()): Centrifugo
// answers an empty one with error 107 in that channel's slot of the
// `responses`, not for the whole request.
struct broadcast_request {
  std::vector<std::string> channels;  // never empty
  std::string data;                   // never empty
  bool skip_history = false;
};

// Centrifugo v5 requires neither member: an empty channel unsubscribes the
// user from every channel (centrifuge's Node.Unsubscribe), and an empty user
// names the anonymous connections. Its docs mark both as required.
struct unsubscribe_request {
  std::string channel;  // "" or 1..255 bytes
  std::string user;
  std::string client;   // "": every connection of the user
  std::string session;  // "": every session
};

// `disconnect: {code, reason}` replaces the default advice as given, even
// `{}` (code 0, reason ""), as Centrifugo does; the session must turn a code
// that is no valid WebSocket close code into one, and cut a reason to 123
// bytes.
struct disconnect_request {
  std::string user;
  std::string client;
  std::string session;
  std::vector<std::string> whitelist;  // client ids to keep connected
  std::uint32_t code = default_disconnect.code;
  std::string reason{default_disconnect.reason};
};

// The same requests as the client protocol's (and decoded by the same
// member reader). As centrifuge's history: `limit` 0 returns only the stream
// position, a negative one every publication; `since` starts after that
// position (error 112 when it is gone); `reverse` walks from the newest.
using client_protocol::history_request;
using client_protocol::presence_request;
using client_protocol::presence_stats_request;

struct history_remove_request {
  std::string channel;
};

// `pattern` is a gobwas/glob pattern (core::channel_pattern); "" lists all
// active channels. decode() has already checked that it compiles.
struct channels_request {
  std::string pattern;
};

struct info_request {};

using request =
    std::variant<publish_request, broadcast_request, unsubscribe_request, disconnect_request,
                 presence_request, presence_stats_request, history_request, history_remove_request,
                 channels_request, info_request>;

// What to answer a request body:
//  - `value`: decoded, for the server to execute;
//  - `error`: HTTP 200 with append_error(*error);
//  - `http_status` other than 200: that status and Centrifugo's plain-text
//    body (plain_text_body()): 404 for a method that is not one of the ten
//    (`/api/batch` and `/api/foo` alike), 400 for a body that is empty, not
//    JSON, neither an object nor `null`, too deep, or has a member of the
//    wrong type (`"channel":1`, `"limit":1.5`, an offset below 0).
// A `null` body is an object without members, as for Go's json.Unmarshal.
// Errors with HTTP 200: 107 for an empty or over-long channel (publish,
// presence, presence_stats, history, history_remove; unsubscribe only over
// 255 bytes), publish or broadcast without `data` (or `b64data`), an invalid
// `b64data`, broadcast without channels; 100 for a `channels` pattern that
// does not compile (the survey fails in Centrifugo).
struct decode_result {
  std::optional<request> value;
  std::optional<api_error> error;
  unsigned http_status = 200;
  std::string_view detail;  // why, static text for logs; empty when decoded
};

// `method` is the path after `/api/` (`"publish"`), matched exactly.
decode_result decode(std::string_view method, std::string_view body);

// One command of a legacy request: decoded, or the error its slot answers.
using command_slot = std::variant<request, api_error>;

// Centrifugo's legacy API (`POST /api`, what cent.js's pipeline() sends):
// one JSON object `{"method":"publish","params":{..}}` per line, answered
// with one response body per line, in order. A line that is not such an
// object (or an empty body) fails the whole request with 400, as Go's
// decoder does; an unknown method is error 104 in its slot, parameters that
// do not decode error 107, others as decode() answers them.
struct legacy_decode_result {
  std::vector<command_slot> commands;
  unsigned http_status = 200;
};

legacy_decode_result decode_legacy(std::string_view body);

// The method's name as in the path, for logs and metrics.
std::string_view method_name(const request& body);

// 1 to 255 bytes: for each channel of a broadcast.
constexpr bool valid_channel(std::string_view channel) {
  return !channel.empty() && channel.size() <= max_channel_bytes;
}

// The body Go's net/http writes with a non-200 status decode() returns:
// "Bad Request\n" (400), "404 page not found\n" (404); Content-Type
// `text/plain; charset=utf-8`. Empty for other statuses.
std::string_view plain_text_body(unsigned http_status);

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------
// Each append_* writes one whole response body. Field order and omitted
// defaults follow Go's encoding of Centrifugo's structs; map members
// (presence, channels) are written sorted by key, as Go's encoder does.
// Strings are escaped; `data`, `conn_info` and `chan_info` are raw JSON text,
// written as they are (empty: omitted).

// `{"error":{"code":C,"message":".."}}`.
void append_error(std::string& out, const api_error& error);

// `{"result":{}}`: unsubscribe, disconnect, history_remove.
void append_empty_result(std::string& out);

// offset and epoch are each omitted when zero/empty (a channel without
// history): `{"result":{}}`.
struct publish_result {
  std::uint64_t offset = 0;
  std::string_view epoch;
};

// `{"result":{"offset":O,"epoch":"E"}}`.
void append_publish_result(std::string& out, const publish_result& result);

// One slot per channel of the request, in its order.
struct broadcast_item {
  std::optional<api_error> error;
  publish_result result;
};

// `{"result":{"responses":[{"result":{..}}|{"error":{..}},..]}}`.
void append_broadcast_result(std::string& out, const std::vector<broadcast_item>& items);

// `{"result":{"presence":{"<client>":{"user":..,"client":..,"conn_info":..,
// "chan_info":..}}}}`; user and client always, the map `{}` when empty.
void append_presence_result(std::string& out,
                            const std::vector<client_protocol::client_info_view>& clients);

// `{"result":{"num_clients":C,"num_users":U}}`, zeros included.
void append_presence_stats_result(std::string& out, std::uint32_t num_clients,
                                  std::uint32_t num_users);

// `{"result":{"publications":[..],"epoch":"E","offset":O}}`, all three always
// (`[]`, `""`, `0`); each publication as client_protocol::append_publication.
void append_history_result(std::string& out,
                           const std::vector<client_protocol::publication_view>& publications,
                           std::string_view epoch, std::uint64_t offset);

struct channel_info {
  std::string_view name;
  std::uint32_t num_clients = 0;
};

// `{"result":{"channels":{"<name>":{"num_clients":N}}}}`; num_clients is
// omitted when 0, the map is `{}` when empty.
void append_channels_result(std::string& out, const std::vector<channel_info>& channels);

struct node_info {
  std::string_view uid;
  std::string_view name;
  std::string_view version;
  std::uint32_t num_clients = 0;
  std::uint32_t num_users = 0;
  std::uint32_t num_subs = 0;
  std::uint32_t num_channels = 0;
  std::int64_t uptime = 0;  // seconds
};

// `{"result":{"nodes":[{"uid":..,"name":..,"version":..,"num_clients":..,
// "num_users":..,"num_channels":..,"uptime":..,"num_subs":..}]}}`; uptime is
// omitted when 0 (Centrifugo's only `omitempty` member of a node); no
// `metrics` or `process`.
void append_info_result(std::string& out, const node_info& node);
// Every node of the cluster, this one first.
void append_info_result(std::string& out, const std::vector<node_info>& nodes);

}  // namespace herald::core::server_api
