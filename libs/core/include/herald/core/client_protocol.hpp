#pragma once

// Centrifugo's bidirectional client protocol, version 2, JSON encoding: the
// wire format of /connection/websocket, as the `centrifuge` JavaScript SDK 5.x
// speaks it. Field names, omitted defaults and codes follow centrifugal/protocol
// (client.proto and its generated JSON codec) and centrifugal/centrifuge
// (client.go, errors.go, disconnect.go). Pure codec: no sockets, no actors.
//
// Framing: a text frame holds one or more JSON objects separated by '\n'.
// Commands carry `id` (the SDK puts it after the method object:
// `{"connect":{"name":"js"},"id":1}`), replies echo it, pushes have none. An
// empty object `{}` is a ping from the server and the client's pong to it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "herald/core/stream_position.hpp"

namespace herald::core::client_protocol {

// ---------------------------------------------------------------------------
// Codes (centrifugal/centrifuge errors.go, disconnect.go, unsubscribe.go)
// ---------------------------------------------------------------------------

// An error in a reply: `{"id":N,"error":{"code":..,"message":..}}`. The SDK
// retries a command whose error is `temporary`.
struct client_error {
  std::uint32_t code;
  std::string_view message;
  bool temporary;
};

namespace errors {
inline constexpr client_error internal{100, "internal server error", true};
inline constexpr client_error unauthorized{101, "unauthorized", false};
inline constexpr client_error unknown_channel{102, "unknown channel", false};
inline constexpr client_error permission_denied{103, "permission denied", false};
inline constexpr client_error method_not_found{104, "method not found", false};
inline constexpr client_error already_subscribed{105, "already subscribed", false};
inline constexpr client_error limit_exceeded{106, "limit exceeded", false};
inline constexpr client_error bad_request{107, "bad request", false};
inline constexpr client_error not_available{108, "not available", false};
inline constexpr client_error token_expired{109, "token expired", false};
inline constexpr client_error expired{110, "expired", false};
inline constexpr client_error too_many_requests{111, "too many requests", true};
inline constexpr client_error unrecoverable_position{112, "unrecoverable position", false};
inline constexpr client_error token_revoked{113, "token revoked", false};
}  // namespace errors

// Why the server closes a connection: sent as a disconnect push and as the
// WebSocket close code and reason. Reasons stay under 123 bytes, the limit
// of a close frame's reason.
struct disconnect_advice {
  std::uint32_t code;
  std::string_view reason;
};

// The SDK reconnects after 3000-3499, 4000-4499 and 5000+, and stays
// disconnected after 3500-3999 and 4500-4999 (centrifuge's isReconnect).
constexpr bool should_reconnect(std::uint32_t code) {
  return code < 3500 || code >= 5000 || (code >= 4000 && code < 4500);
}

namespace disconnects {
// 3000 is what a close without advice means; it is never sent.
inline constexpr disconnect_advice connection_closed{3000, "connection closed"};
inline constexpr disconnect_advice shutdown{3001, "shutdown"};
inline constexpr disconnect_advice server_error{3004, "internal server error"};
inline constexpr disconnect_advice expired{3005, "connection expired"};
inline constexpr disconnect_advice subscription_expired{3006, "subscription expired"};
inline constexpr disconnect_advice slow{3008, "slow"};
inline constexpr disconnect_advice write_error{3009, "write error"};
inline constexpr disconnect_advice insufficient_state{3010, "insufficient state"};
inline constexpr disconnect_advice force_reconnect{3011, "force reconnect"};
inline constexpr disconnect_advice no_pong{3012, "no pong"};
inline constexpr disconnect_advice too_many_requests{3013, "too many requests"};
inline constexpr disconnect_advice invalid_token{3500, "invalid token"};
inline constexpr disconnect_advice bad_request{3501, "bad request"};
inline constexpr disconnect_advice stale{3502, "stale"};
inline constexpr disconnect_advice force_no_reconnect{3503, "force disconnect"};
inline constexpr disconnect_advice connection_limit{3504, "connection limit"};
inline constexpr disconnect_advice channel_limit{3505, "channel limit"};
inline constexpr disconnect_advice inappropriate_protocol{3506, "inappropriate protocol"};
inline constexpr disconnect_advice permission_denied{3507, "permission denied"};
inline constexpr disconnect_advice not_available{3508, "not available"};
inline constexpr disconnect_advice too_many_errors{3509, "too many errors"};
inline constexpr disconnect_advice idle_timeout{3511, "idle timeout"};
}  // namespace disconnects

// Codes of an unsubscribe push: the SDK resubscribes after 2500 and above and
// ends the subscription below 2500.
struct unsubscribe_advice {
  std::uint32_t code;
  std::string_view reason;
};

namespace unsubscribes {
inline constexpr unsubscribe_advice server{2000, "server unsubscribe"};
inline constexpr unsubscribe_advice insufficient_state{2500, "insufficient state"};
inline constexpr unsubscribe_advice expired{2501, "subscription expired"};
}  // namespace unsubscribes

// A channel is any string of 1 to 255 bytes.
inline constexpr std::size_t max_channel_bytes = 255;
// JSON nesting accepted in a command (Boost.JSON's default is 32; a frame's
// size is bounded by max-message-bytes before it gets here).
inline constexpr std::size_t max_json_depth = 64;

// Bits of subscribe's `flag` (the SDK sends channel_compaction on every
// subscribe; a server that ignores it keeps sending the channel name).
inline constexpr std::int64_t flag_channel_compaction = 1;
// The client asks for error 112 instead of `recovered: false`.
inline constexpr std::int64_t flag_reject_unrecovered = 2;

// ---------------------------------------------------------------------------
// Commands (client -> server)
// ---------------------------------------------------------------------------
// Every `data` member holds the client's JSON value as the client's own text,
// compacted (numbers as written: no 1.5E0, no rounding of big integers; no
// '\n' left), or is empty when the command has none: it is embedded in
// publications as is. A JSON null counts as absent, as in Centrifugo.

using core::stream_position;

struct subscribe_request {
  std::string channel;
  std::string token;
  bool recover = false;
  std::uint64_t offset = 0;
  std::string epoch;
  std::string data;
  bool positioned = false;
  bool recoverable = false;
  bool join_leave = false;
  std::string delta;  // "" or "fossil"; a server may ignore it
  std::int64_t flag = 0;
  std::int32_t type = 0;  // 0: a plain channel; others are map/shared-poll kinds
};

// One entry of connect's `subs`: a server-side subscription to recover.
struct connect_subscription {
  std::string channel;
  bool recover = false;
  std::uint64_t offset = 0;
  std::string epoch;
};

struct connect_request {
  std::string token;
  std::string data;
  std::vector<connect_subscription> subs;
  std::string name;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::int64_t flag = 0;
};

struct unsubscribe_request {
  std::string channel;
};

struct publish_request {
  std::string channel;
  std::string data;  // never empty: publish without data is rejected
};

struct presence_request {
  std::string channel;
};

struct presence_stats_request {
  std::string channel;
};

struct history_request {
  std::string channel;
  std::int32_t limit = 0;  // 0: no publications, only the position; < 0: all
  std::optional<stream_position> since;
  bool reverse = false;
};

// `{"id":N,"ping":{}}`: in the proto, but Centrifugo answers it with 108.
struct ping_request {};

// The only command sent without an id (the SDK's send()); never answered.
struct send_request {
  std::string data;
};

struct rpc_request {
  std::string method;
  std::string data;
};

struct refresh_request {
  std::string token;  // never empty
};

struct sub_refresh_request {
  std::string channel;
  std::string token;  // never empty
};

// `{}` from the client: the pong to a server ping (only when the connect
// reply said `"pong":true`). Centrifugo disconnects with 3501 for a pong
// that answers no ping; that check belongs to the session.
struct pong {};

using request =
    std::variant<pong, connect_request, subscribe_request, unsubscribe_request, publish_request,
                 presence_request, presence_stats_request, history_request, ping_request,
                 send_request, rpc_request, refresh_request, sub_refresh_request>;

struct command {
  std::uint32_t id = 0;  // 0 only for pong and send
  request body;
};

// A well-formed command whose parameters are refused: the session replies
// `{"id":id,"error":...}` and goes on with the frame.
struct command_error {
  std::uint32_t id = 0;
  client_error error;
  std::string_view detail;  // static text for logs
};

using decoded = std::variant<command, command_error>;

struct frame_decode_result {
  // The frame's commands in order, up to the first malformed one.
  std::vector<decoded> items;
  // Set when a malformed line ended decoding: handle `items` (Centrifugo
  // handles the commands before the bad one), then close with this advice.
  std::optional<disconnect_advice> disconnect;
  std::string_view detail;  // why, static text for logs; empty without disconnect
};

// Decodes one text frame (its payload, already checked as UTF-8).
//
// Error policy, following centrifuge's Client.HandleCommand / dispatchCommand
// and the protocol's JSONCommandDecoder:
//  - disconnect 3501 (bad request) for an empty frame, an empty line, invalid
//    JSON, a non-object, a member of the wrong type (`"offset":"1"`, a
//    fraction, a negative or out-of-range number), a command without a known
//    method, with more than one, or with id 0 other than send and the pong;
//    and for what centrifuge's handlers reject with DisconnectBadRequest: an
//    empty channel, publish without data, refresh without a token, an
//    unknown `delta` type;
//  - error reply 107 (bad request) for a channel over 255 bytes (centrifuge's
//    "channel too long") and sub_refresh without a token.
// Unknown members are ignored at every level, as Centrifugo's decoder does,
// so newer SDK fields (`tf`, `headers`, ...) pass.
frame_decode_result decode_frame(std::string_view frame);

// The method's name as in the JSON (`"presence_stats"`; `"pong"` for `{}`),
// for logs and metrics.
std::string_view method_name(const request& body);

// ---------------------------------------------------------------------------
// Replies and pushes (server -> client)
// ---------------------------------------------------------------------------
// Each append_* function appends exactly one JSON object, with no newline.
// Strings are escaped (they must be UTF-8, as every string that reaches here
// from parsed JSON, a token or the configuration is); `data`, `conn_info` and `chan_info` are raw
// JSON text (compact; a '\n' in it, which valid JSON only has as whitespace, is written as a space
// so that it cannot split the frame). Empty raw fields, false flags and zero numbers are omitted,
// as Centrifugo's encoder does, except where the SDK reads a value unconditionally (noted per
// function).

struct client_info_view {
  std::string_view user;    // always written, "" for anonymous
  std::string_view client;  // always written
  std::string_view conn_info;
  std::string_view chan_info;
};

struct publication_view {
  std::string_view data;
  std::uint64_t offset = 0;
  const client_info_view* info = nullptr;
};

struct subscribe_result {
  bool expires = false;
  std::uint32_t ttl = 0;
  bool recoverable = false;
  std::string_view epoch;
  std::vector<publication_view> publications;  // recovered ones, oldest first
  bool recovered = false;
  std::uint64_t offset = 0;
  bool positioned = false;
  std::string_view data;
  bool was_recovering = false;
};

// Owns its strings, so that a session can hand a connect's result to the
// broadcaster as one value (core::connect_request), which adds `subs`: views
// into storage of the broadcaster's that outlives the encoding.
struct connect_result {
  std::string client;  // the SDK's client id
  std::string version;
  bool expires = false;
  std::uint32_t ttl = 0;  // seconds until the client must refresh
  std::string data;
  std::vector<std::pair<std::string_view, subscribe_result>> subs;  // server-side subs
  std::uint32_t ping = 0;  // seconds between server pings; 0: none
  bool pong = false;       // true: the client answers each ping with `{}`
  std::string session;
  std::string node;
};

struct history_result {
  std::vector<publication_view> publications;
  std::string_view epoch;
  std::uint64_t offset = 0;
};

struct refresh_result {
  std::string_view client;
  std::string_view version;
  bool expires = false;
  std::uint32_t ttl = 0;
};

// The server ping, also the whole frame for it.
inline constexpr std::string_view ping_message = "{}";

// Appends '\n' when `out` already holds a message: the separator between
// replies and pushes batched into one frame.
void append_separator(std::string& out);

// Appends `text` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view text);

// `{"id":N,"error":{"code":C,"message":"...","temporary":true}}`.
void append_error_reply(std::string& out, std::uint32_t id, const client_error& error);

// `{"id":N,"connect":{"client":..,"version":..,"expires":..,"ttl":..,"data":..,
// "subs":{..},"ping":..,"pong":..,"session":..,"node":..}}`.
void append_connect_reply(std::string& out, std::uint32_t id, const connect_result& result);

// `{"id":N,"subscribe":{"expires":..,"ttl":..,"recoverable":..,"epoch":..,
// "publications":[..],"recovered":..,"offset":..,"positioned":..,"data":..,
// "was_recovering":..}}`; `{"id":N,"subscribe":{}}` for a plain channel.
void append_subscribe_reply(std::string& out, std::uint32_t id, const subscribe_result& result);

// `{"id":N,"unsubscribe":{}}`.
void append_unsubscribe_reply(std::string& out, std::uint32_t id);

// `{"id":N,"publish":{}}`.
void append_publish_reply(std::string& out, std::uint32_t id);

// `{"id":N,"presence":{"presence":{"<client>":{"user":..,"client":..,..}}}}`
// (the map is always written, `{}` when empty).
void append_presence_reply(std::string& out, std::uint32_t id,
                           const std::vector<client_info_view>& clients);

// `{"id":N,"presence_stats":{"num_clients":C,"num_users":U}}`, zeros included
// (the SDK returns them as they are).
void append_presence_stats_reply(std::string& out, std::uint32_t id, std::uint32_t num_clients,
                                 std::uint32_t num_users);

// `{"id":N,"history":{"publications":[..],"epoch":"..","offset":O}}`, all
// three always written, as Centrifugo does.
void append_history_reply(std::string& out, std::uint32_t id, const history_result& result);

// `{"id":N,"refresh":{"client":..,"version":..,"expires":..,"ttl":..}}`.
void append_refresh_reply(std::string& out, std::uint32_t id, const refresh_result& result);

// `{"id":N,"sub_refresh":{"expires":..,"ttl":..}}`.
void append_sub_refresh_reply(std::string& out, std::uint32_t id, bool expires, std::uint32_t ttl);

// `{"data":..,"info":{..},"offset":O}`: a publication as pushes, subscribe
// and history replies hold it.
void append_publication(std::string& out, const publication_view& publication);

// `{"push":{"channel":"c","pub":{..}}}`.
void append_publication_push(std::string& out, std::string_view channel,
                             const publication_view& publication);

// `{"push":{"channel":"c","join":{"info":{..}}}}`.
void append_join_push(std::string& out, std::string_view channel, const client_info_view& info);

// `{"push":{"channel":"c","leave":{"info":{..}}}}`.
void append_leave_push(std::string& out, std::string_view channel, const client_info_view& info);

// `{"push":{"channel":"c","unsubscribe":{"code":C,"reason":".."}}}`.
void append_unsubscribe_push(std::string& out, std::string_view channel,
                             const unsubscribe_advice& advice);

}  // namespace herald::core::client_protocol
