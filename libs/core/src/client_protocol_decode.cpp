// Commands of the client protocol: one text frame -> typed commands.
//
// The policy (which input closes the connection with 3501, which gets an
// error reply 107) is centrifuge's, see decode_frame in the header. Sources:
// centrifugal/protocol decode.go (JSONCommandDecoder: lines split on '\n',
// a trailing '\n' ends the frame, any decode error fails it) and
// client.pb_easyjson.go (null members are skipped, unknown ones ignored,
// a wrong type is a decode error); centrifugal/centrifuge client.go
// (HandleCommand/dispatchCommand: decode error, no method or id 0 other
// than send -> DisconnectBadRequest; handleSubscribe, handlePublish, ...:
// empty channel -> DisconnectBadRequest; validateSubscribeRequest: channel
// too long -> ErrorBadRequest).

#include <iterator>
#include <optional>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "herald/core/client_protocol.hpp"
#include "json_reading.hpp"

namespace herald::core::client_protocol {

namespace {

namespace json = boost::json;
using json_reading::member;
using json_reading::read_bool;
using json_reading::read_history_members;
using json_reading::read_integer;
using json_reading::read_object;
using json_reading::read_raw;
using json_reading::read_string;
using json_reading::wrong_type;

// Why a command was refused: closes the connection, or is answered with
// `error` while the frame goes on.
struct failure {
  bool disconnect = true;
  client_error error = errors::bad_request;
  std::string_view detail;
};

using check = std::optional<failure>;

failure close_with(std::string_view detail) {
  return failure{true, errors::bad_request, detail};
}

failure reply_with(const client_error& error, std::string_view detail) {
  return failure{false, error, detail};
}

// centrifuge disconnects for an empty channel and answers 107 for one longer
// than its channel_max_length (Herald's is 255 bytes).
check check_channel(const std::string& channel) {
  if (channel.empty()) {
    return close_with("channel required");
  }
  if (channel.size() > max_channel_bytes) {
    return reply_with(errors::bad_request, "channel too long");
  }
  return std::nullopt;
}

check decode_connect_subs(const json::object& subs, std::vector<connect_subscription>& out) {
  out.reserve(subs.size());
  for (const auto& entry : subs) {
    if (entry.value().is_null()) {
      continue;
    }
    const json::object* params = entry.value().if_object();
    if (params == nullptr) {
      return close_with(wrong_type);
    }
    connect_subscription sub;
    sub.channel.assign(entry.key().data(), entry.key().size());
    if (!read_bool(*params, "recover", sub.recover) ||
        !read_integer(*params, "offset", sub.offset) || !read_string(*params, "epoch", sub.epoch)) {
      return close_with(wrong_type);
    }
    out.push_back(std::move(sub));
  }
  return std::nullopt;
}

check decode_connect(const json::object& params, std::string_view text, request& out) {
  connect_request connect;
  const json::object* subs = nullptr;
  const json::object* headers = nullptr;
  if (!read_string(params, "token", connect.token) || !read_object(params, "subs", subs) ||
      !read_string(params, "name", connect.name) ||
      !read_string(params, "version", connect.version) ||
      !read_object(params, "headers", headers) || !read_integer(params, "flag", connect.flag)) {
    return close_with(wrong_type);
  }
  read_raw(params, text, "data", connect.data);
  if (subs != nullptr) {
    if (auto failed = decode_connect_subs(*subs, connect.subs)) {
      return failed;
    }
  }
  if (headers != nullptr) {
    connect.headers.reserve(headers->size());
    for (const auto& entry : *headers) {
      const json::string* value = entry.value().if_string();
      if (value == nullptr) {
        return close_with(wrong_type);
      }
      connect.headers.emplace_back(std::string(entry.key().data(), entry.key().size()),
                                   std::string(value->data(), value->size()));
    }
  }
  out = std::move(connect);
  return std::nullopt;
}

check decode_subscribe(const json::object& params, std::string_view text, request& out) {
  subscribe_request subscribe;
  if (!read_string(params, "channel", subscribe.channel) ||
      !read_string(params, "token", subscribe.token) ||
      !read_bool(params, "recover", subscribe.recover) ||
      !read_integer(params, "offset", subscribe.offset) ||
      !read_string(params, "epoch", subscribe.epoch) ||
      !read_bool(params, "positioned", subscribe.positioned) ||
      !read_bool(params, "recoverable", subscribe.recoverable) ||
      !read_bool(params, "join_leave", subscribe.join_leave) ||
      !read_string(params, "delta", subscribe.delta) ||
      !read_integer(params, "flag", subscribe.flag) ||
      !read_integer(params, "type", subscribe.type)) {
    return close_with(wrong_type);
  }
  read_raw(params, text, "data", subscribe.data);
  // Same order as centrifuge's handleSubscribe: empty channel, unknown delta
  // type (both disconnect), then the length (an error reply).
  if (subscribe.channel.empty()) {
    return close_with("channel required");
  }
  if (!subscribe.delta.empty() && subscribe.delta != "fossil") {
    return close_with("unknown delta type");
  }
  if (auto failed = check_channel(subscribe.channel)) {
    return failed;
  }
  out = std::move(subscribe);
  return std::nullopt;
}

// unsubscribe, presence and presence_stats: a channel and nothing else.
template <class Request>
check decode_channel_only(const json::object& params, std::string_view, request& out) {
  Request decoded;
  if (!read_string(params, "channel", decoded.channel)) {
    return close_with(wrong_type);
  }
  if (auto failed = check_channel(decoded.channel)) {
    return failed;
  }
  out = std::move(decoded);
  return std::nullopt;
}

check decode_publish(const json::object& params, std::string_view text, request& out) {
  publish_request publish;
  if (!read_string(params, "channel", publish.channel)) {
    return close_with(wrong_type);
  }
  read_raw(params, text, "data", publish.data);
  if (publish.data.empty()) {
    // centrifuge: "channel and data required for publish" -> disconnect.
    return close_with("data required");
  }
  if (auto failed = check_channel(publish.channel)) {
    return failed;
  }
  out = std::move(publish);
  return std::nullopt;
}

check decode_history(const json::object& params, std::string_view, request& out) {
  history_request history;
  if (!read_history_members(params, history)) {
    return close_with(wrong_type);
  }
  if (auto failed = check_channel(history.channel)) {
    return failed;
  }
  out = std::move(history);
  return std::nullopt;
}

check decode_ping(const json::object&, std::string_view, request& out) {
  out = ping_request{};
  return std::nullopt;
}

check decode_send(const json::object& params, std::string_view text, request& out) {
  send_request send;
  read_raw(params, text, "data", send.data);
  out = std::move(send);
  return std::nullopt;
}

check decode_rpc(const json::object& params, std::string_view text, request& out) {
  rpc_request rpc;
  if (!read_string(params, "method", rpc.method)) {
    return close_with(wrong_type);
  }
  read_raw(params, text, "data", rpc.data);
  out = std::move(rpc);
  return std::nullopt;
}

check decode_refresh(const json::object& params, std::string_view, request& out) {
  refresh_request refresh;
  if (!read_string(params, "token", refresh.token)) {
    return close_with(wrong_type);
  }
  if (refresh.token.empty()) {
    // centrifuge: "client token required to refresh" -> disconnect.
    return close_with("token required");
  }
  out = std::move(refresh);
  return std::nullopt;
}

check decode_sub_refresh(const json::object& params, std::string_view, request& out) {
  sub_refresh_request refresh;
  if (!read_string(params, "channel", refresh.channel) ||
      !read_string(params, "token", refresh.token)) {
    return close_with(wrong_type);
  }
  if (auto failed = check_channel(refresh.channel)) {
    return failed;
  }
  if (refresh.token.empty()) {
    // centrifuge: "subscription refresh token required" -> ErrorBadRequest.
    return reply_with(errors::bad_request, "token required");
  }
  out = std::move(refresh);
  return std::nullopt;
}

// `text` is the JSON text of `params`, for the raw `data` members.
struct method_entry {
  std::string_view name;
  check (*decode)(const json::object& params, std::string_view text, request& out);
};

// The command's method members, as client.proto's Command lists them.
constexpr method_entry methods[] = {
    {"connect", &decode_connect},
    {"subscribe", &decode_subscribe},
    {"unsubscribe", &decode_channel_only<unsubscribe_request>},
    {"publish", &decode_publish},
    {"presence", &decode_channel_only<presence_request>},
    {"presence_stats", &decode_channel_only<presence_stats_request>},
    {"history", &decode_history},
    {"ping", &decode_ping},
    {"send", &decode_send},
    {"rpc", &decode_rpc},
    {"refresh", &decode_refresh},
    {"sub_refresh", &decode_sub_refresh},
};

constexpr std::string_view send_method = "send";

// One line of the frame: the decoded item, or why the connection closes.
struct line_result {
  std::optional<decoded> item;
  std::string_view disconnect_detail;
};

line_result closing(std::string_view detail) {
  return line_result{std::nullopt, detail};
}

line_result decode_line(std::string_view line, json::storage_ptr storage) {
  json::error_code ec;
  const json::value parsed = json_reading::parse(line, std::move(storage), max_json_depth, ec);
  if (ec) {
    return closing("invalid JSON");
  }
  const json::object* object = parsed.if_object();
  if (object == nullptr) {
    return closing("command is not a JSON object");
  }

  std::uint32_t id = 0;
  if (!read_integer(*object, "id", id)) {
    return closing("id is not an unsigned 32-bit integer");
  }

  const method_entry* method = nullptr;
  const json::object* params = nullptr;
  for (const method_entry& entry : methods) {
    const json::value* value = member(*object, entry.name);
    if (value == nullptr) {
      continue;
    }
    if (method != nullptr) {
      // The proto allows a server to refuse this; taking the first method,
      // as centrifuge does, would silently drop the other.
      return closing("more than one method");
    }
    params = value->if_object();
    if (params == nullptr) {
      return closing("method is not a JSON object");
    }
    method = &entry;
  }

  if (method == nullptr) {
    if (id == 0) {
      // `{}` (unknown members ignored): the pong.
      return line_result{decoded{command{0, pong{}}}, {}};
    }
    // An unknown method is an unknown member of a command without a method.
    return closing("no known method");
  }
  if (id == 0 && method->name != send_method) {
    // centrifuge treats any command without id but send as a pong; a
    // subscribe without id is a client bug, not a pong.
    return closing("command id required");
  }

  command decoded_command;
  decoded_command.id = id;
  // The method object's own text: its raw members keep the client's tokens.
  const std::string_view params_text =
      json_reading::raw_member(line, method->name).value_or(std::string_view());
  if (check failed = method->decode(*params, params_text, decoded_command.body)) {
    if (failed->disconnect) {
      return closing(failed->detail);
    }
    return line_result{decoded{command_error{id, failed->error, failed->detail}}, {}};
  }
  return line_result{decoded{std::move(decoded_command)}, {}};
}

}  // namespace

frame_decode_result decode_frame(std::string_view frame) {
  frame_decode_result result;
  if (frame.empty()) {
    result.disconnect = disconnects::bad_request;
    result.detail = "empty frame";
    return result;
  }
  // The parsed trees of the frame's lines live in one arena: nothing of them
  // is kept (strings are copied into the commands).
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof arena);
  std::size_t position = 0;
  while (position < frame.size()) {
    const std::size_t newline = frame.find('\n', position);
    const std::size_t end = newline == std::string_view::npos ? frame.size() : newline;
    // A '\n' that ends the frame separates nothing; an empty line elsewhere
    // (or a frame of just "\n") is invalid JSON, as in Centrifugo.
    const std::string_view line = frame.substr(position, end - position);
    position = newline == std::string_view::npos ? frame.size() : newline + 1;

    line_result outcome = decode_line(line, json::storage_ptr(&resource));
    if (!outcome.item) {
      result.disconnect = disconnects::bad_request;
      result.detail = outcome.disconnect_detail;
      return result;
    }
    result.items.push_back(std::move(*outcome.item));
  }
  return result;
}

std::string_view method_name(const request& body) {
  static constexpr std::string_view names[] = {
      "pong",    "connect", "subscribe", "unsubscribe", "publish", "presence",   "presence_stats",
      "history", "ping",    "send",      "rpc",         "refresh", "sub_refresh"};
  static_assert(std::size(names) == std::variant_size_v<request>);
  return names[body.index()];
}

}  // namespace herald::core::client_protocol
