// Requests of the server HTTP API: a method path and a JSON body -> a typed
// request, or what to answer instead.
//
// The policy (404, 400, or an error 107 with HTTP 200) is Centrifugo v5's,
// see decode_result in the header. In Centrifugo the body goes through Go's
// json.Unmarshal first (any type error -> 400), then the method's executor
// checks the values (an empty channel -> 107): the decoders here keep that
// order, reading and type-checking every member before checking any value.

#include <algorithm>
#include <iterator>
#include <optional>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "herald/core/server_api.hpp"

#include "herald/core/channel_pattern.hpp"
#include "json_reading.hpp"

namespace herald::core::server_api {

namespace {

namespace json = boost::json;
using json_reading::member;
using json_reading::read_bool;
using json_reading::read_history_members;
using json_reading::read_integer;
using json_reading::read_object;
using json_reading::read_string;
using json_reading::wrong_type;

// ---------------------------------------------------------------------------
// Base64 (`b64data`), as Go's base64.StdEncoding.DecodeString: the standard
// alphabet, padding required, '\r' and '\n' skipped anywhere.
// ---------------------------------------------------------------------------

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::string symbols;
  symbols.reserve(text.size());
  for (const char c : text) {
    if (c != '\r' && c != '\n') {
      symbols.push_back(c);
    }
  }
  if (symbols.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string bytes;
  bytes.reserve(symbols.size() / 4 * 3);
  for (std::size_t i = 0; i < symbols.size(); i += 4) {
    // '=' may only pad the last quartet: "xx==" or "xxx=".
    const bool last = i + 4 == symbols.size();
    const int padding = !last ? 0 : symbols[i + 2] == '=' ? 2 : symbols[i + 3] == '=' ? 1 : 0;
    if (padding == 2 && symbols[i + 3] != '=') {
      return std::nullopt;
    }
    unsigned quartet = 0;
    for (int k = 0; k < 4 - padding; ++k) {
      const int value = base64_value(symbols[i + k]);
      if (value < 0) {
        return std::nullopt;
      }
      quartet |= static_cast<unsigned>(value) << (18 - 6 * k);
    }
    bytes.push_back(static_cast<char>(quartet >> 16));
    if (padding < 2) {
      bytes.push_back(static_cast<char>((quartet >> 8) & 0xff));
    }
    if (padding < 1) {
      bytes.push_back(static_cast<char>(quartet & 0xff));
    }
  }
  return bytes;
}

// ---------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------

// Why a request is not decoded: an HTTP status without a JSON body, or an
// error reply with 200.
struct failure {
  unsigned http_status = 200;
  std::optional<api_error> error;
  std::string_view detail;
};

using check = std::optional<failure>;

failure malformed(std::string_view detail) {
  return failure{400, std::nullopt, detail};
}

failure refused(const api_error& error, std::string_view detail) {
  return failure{200, error, detail};
}

// A JSON string or null: what Go decodes into a string (null leaves "").
bool string_or_null(const json::value& value) {
  return value.is_string() || value.is_null();
}

// `[]string`: a null element is "", as in Go.
bool read_string_array(const json::object& object, std::string_view name,
                       std::vector<std::string>& out) {
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  const json::array* items = value->if_array();
  if (items == nullptr || !std::all_of(items->begin(), items->end(), &string_or_null)) {
    return false;
  }
  out.clear();
  out.reserve(items->size());
  for (const json::value& item : *items) {
    const json::string* text = item.if_string();
    out.emplace_back(text != nullptr ? std::string(text->data(), text->size()) : std::string());
  }
  return true;
}

// Members Herald ignores still fail a request when Go could not decode them.
bool is_string_map(const json::object& object, std::string_view name) {
  const json::value* value = member(object, name);
  if (value == nullptr) {
    return true;
  }
  const json::object* entries = value->if_object();
  return entries != nullptr &&
         std::all_of(entries->begin(), entries->end(), [](const json::key_value_pair& entry) {
           return string_or_null(entry.value());
         });
}

bool is_string_or_absent(const json::object& object, std::string_view name) {
  const json::value* value = member(object, name);
  return value == nullptr || value->is_string();
}

bool is_bool_or_absent(const json::object& object, std::string_view name) {
  const json::value* value = member(object, name);
  return value == nullptr || value->is_bool();
}

// Herald's 255-byte limit on top of Centrifugo's "channel required".
check check_channel(const std::string& channel) {
  if (channel.empty()) {
    return refused(errors::bad_request, "channel required");
  }
  if (channel.size() > max_channel_bytes) {
    return refused(errors::bad_request, "channel too long");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Publications: publish and broadcast
// ---------------------------------------------------------------------------

// The members publish and broadcast share besides their channels.
struct publication_members {
  std::string b64data;
  bool skip_history = false;
};

bool read_publication_members(const json::object& params, publication_members& out) {
  return read_string(params, "b64data", out.b64data) &&
         read_bool(params, "skip_history", out.skip_history) && is_string_map(params, "tags") &&
         is_string_or_absent(params, "idempotency_key") && is_bool_or_absent(params, "delta");
}

// `b64data` when it is not empty (it wins, as in Centrifugo), else `data`.
check resolve_data(const json::object& params, std::string_view body, const std::string& b64data,
                   std::string& data) {
  if (!b64data.empty()) {
    std::optional<std::string> decoded = decode_base64(b64data);
    if (!decoded) {
      return refused(errors::bad_request, "invalid b64data");
    }
    if (!json_reading::is_json(*decoded, max_json_depth)) {
      return refused(errors::bad_request, "b64data is not JSON");
    }
    data = json_reading::compact(*decoded);
  } else if (params.contains("data")) {
    // Present, even as null: Centrifugo publishes `null`.
    data = json_reading::compact_member(body, "data");
  }
  if (data.empty()) {
    return refused(errors::bad_request, "data required");
  }
  return std::nullopt;
}

check decode_publish(const json::object& params, std::string_view body, request& out) {
  publish_request publish;
  publication_members members;
  if (!read_string(params, "channel", publish.channel) ||
      !read_publication_members(params, members)) {
    return malformed(wrong_type);
  }
  publish.skip_history = members.skip_history;
  // Centrifugo's order: the channel, then the data.
  if (publish.channel.empty()) {
    return refused(errors::bad_request, "channel required");
  }
  if (auto failed = resolve_data(params, body, members.b64data, publish.data)) {
    return failed;
  }
  if (auto failed = check_channel(publish.channel)) {
    return failed;
  }
  out = std::move(publish);
  return std::nullopt;
}

check decode_broadcast(const json::object& params, std::string_view body, request& out) {
  broadcast_request broadcast;
  publication_members members;
  if (!read_string_array(params, "channels", broadcast.channels) ||
      !read_publication_members(params, members)) {
    return malformed(wrong_type);
  }
  broadcast.skip_history = members.skip_history;
  if (broadcast.channels.empty()) {
    return refused(errors::bad_request, "channels required");
  }
  if (auto failed = resolve_data(params, body, members.b64data, broadcast.data)) {
    return failed;
  }
  out = std::move(broadcast);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The other methods
// ---------------------------------------------------------------------------

check decode_unsubscribe(const json::object& params, std::string_view, request& out) {
  unsubscribe_request unsubscribe;
  if (!read_string(params, "channel", unsubscribe.channel) ||
      !read_string(params, "user", unsubscribe.user) ||
      !read_string(params, "client", unsubscribe.client) ||
      !read_string(params, "session", unsubscribe.session)) {
    return malformed(wrong_type);
  }
  // No channel is every channel; only the 255-byte limit applies.
  if (unsubscribe.channel.size() > max_channel_bytes) {
    return refused(errors::bad_request, "channel too long");
  }
  out = std::move(unsubscribe);
  return std::nullopt;
}

check decode_disconnect(const json::object& params, std::string_view, request& out) {
  disconnect_request disconnect;
  const json::object* advice = nullptr;
  if (!read_string(params, "user", disconnect.user) ||
      !read_string(params, "client", disconnect.client) ||
      !read_string(params, "session", disconnect.session) ||
      !read_string_array(params, "whitelist", disconnect.whitelist) ||
      !read_object(params, "disconnect", advice)) {
    return malformed(wrong_type);
  }
  if (advice != nullptr) {
    // Replaces the default as a whole: a missing code is 0, as in Go.
    disconnect.code = 0;
    disconnect.reason.clear();
    if (!read_integer(*advice, "code", disconnect.code) ||
        !read_string(*advice, "reason", disconnect.reason) ||
        !is_bool_or_absent(*advice, "reconnect")) {
      return malformed(wrong_type);
    }
  }
  out = std::move(disconnect);
  return std::nullopt;
}

// presence, presence_stats and history_remove: a channel and nothing else.
template <class Request>
check decode_channel_only(const json::object& params, std::string_view, request& out) {
  Request decoded;
  if (!read_string(params, "channel", decoded.channel)) {
    return malformed(wrong_type);
  }
  if (auto failed = check_channel(decoded.channel)) {
    return failed;
  }
  out = std::move(decoded);
  return std::nullopt;
}

check decode_history(const json::object& params, std::string_view, request& out) {
  history_request history;
  if (!read_history_members(params, history)) {
    return malformed(wrong_type);
  }
  if (auto failed = check_channel(history.channel)) {
    return failed;
  }
  out = std::move(history);
  return std::nullopt;
}

check decode_channels(const json::object& params, std::string_view, request& out) {
  channels_request channels;
  if (!read_string(params, "pattern", channels.pattern)) {
    return malformed(wrong_type);
  }
  // Matching costs the pattern's length for every byte of every channel,
  // on the broadcaster's thread: a pattern is a channel name's length at
  // most (107, as a channel over it).
  if (channels.pattern.size() > max_channel_bytes) {
    return refused(errors::bad_request, "pattern too long");
  }
  if (!channels.pattern.empty() && !channel_pattern::compile(channels.pattern)) {
    // Centrifugo's survey fails and the executor answers its internal error.
    return refused(errors::internal, "pattern does not compile");
  }
  out = std::move(channels);
  return std::nullopt;
}

check decode_info(const json::object&, std::string_view, request& out) {
  out = info_request{};
  return std::nullopt;
}

struct method_entry {
  std::string_view name;
  check (*decode)(const json::object& params, std::string_view body, request& out);
};

// In the order of the request variant (method_name relies on it).
constexpr method_entry methods[] = {
    {"publish", &decode_publish},
    {"broadcast", &decode_broadcast},
    {"unsubscribe", &decode_unsubscribe},
    {"disconnect", &decode_disconnect},
    {"presence", &decode_channel_only<presence_request>},
    {"presence_stats", &decode_channel_only<presence_stats_request>},
    {"history", &decode_history},
    {"history_remove", &decode_channel_only<history_remove_request>},
    {"channels", &decode_channels},
    {"info", &decode_info},
};
static_assert(std::size(methods) == std::variant_size_v<request>);

const method_entry* find_method(std::string_view name) {
  for (const method_entry& entry : methods) {
    if (entry.name == name) {
      return &entry;
    }
  }
  return nullptr;
}

decode_result answer(const failure& failed) {
  decode_result result;
  result.http_status = failed.http_status;
  result.error = failed.error;
  result.detail = failed.detail;
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public functions
// ---------------------------------------------------------------------------

decode_result decode(std::string_view method, std::string_view body) {
  const method_entry* entry = find_method(method);
  if (entry == nullptr) {
    return answer(failure{404, std::nullopt, "unknown method"});
  }
  // The parsed tree lives in one arena: nothing of it is kept.
  unsigned char arena[4096];
  json::monotonic_resource resource(arena, sizeof arena);
  json::error_code ec;
  const json::value parsed =
      json_reading::parse(body, json::storage_ptr(&resource), max_json_depth, ec);
  if (ec) {
    return answer(malformed("invalid JSON"));
  }
  const json::object no_members{json::storage_ptr(&resource)};
  const json::object* params = parsed.if_object();
  if (params == nullptr) {
    if (!parsed.is_null()) {
      return answer(malformed("body is not a JSON object"));
    }
    params = &no_members;  // Go's json.Unmarshal of `null`: nothing set
  }
  request value;
  if (check failed = entry->decode(*params, body, value)) {
    return answer(*failed);
  }
  decode_result result;
  result.value = std::move(value);
  return result;
}

legacy_decode_result decode_legacy(std::string_view body) {
  legacy_decode_result result;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) {
      end = body.size();
    }
    std::string_view line = body.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      continue;
    }
    unsigned char arena[1024];
    json::monotonic_resource resource(arena, sizeof arena);
    json::error_code ec;
    const json::value parsed =
        json_reading::parse(line, json::storage_ptr(&resource), max_json_depth, ec);
    const json::object* command = ec ? nullptr : parsed.if_object();
    std::string method;
    if (command == nullptr || !json_reading::read_string(*command, "method", method)) {
      result.commands.clear();
      result.http_status = 400;
      return result;
    }
    const std::string_view params =
        json_reading::member(*command, "params") == nullptr
            ? std::string_view{"{}"}
            : json_reading::raw_member(line, "params").value_or(std::string_view{"{}"});
    decode_result decoded = decode(method, params);
    if (decoded.http_status == 404) {
      result.commands.emplace_back(errors::method_not_found);
    } else if (decoded.http_status != 200) {
      result.commands.emplace_back(errors::bad_request);
    } else if (decoded.error) {
      result.commands.emplace_back(*decoded.error);
    } else {
      result.commands.emplace_back(std::move(*decoded.value));
    }
  }
  if (result.commands.empty()) {
    result.http_status = 400;
  }
  return result;
}

std::string_view method_name(const request& body) {
  return methods[body.index()].name;
}

}  // namespace herald::core::server_api
