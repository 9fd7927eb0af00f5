// Replies and pushes of the client protocol, written straight into the
// caller's buffer: no intermediate JSON tree, no allocation besides the
// output string's growth. Field order and omitted defaults follow
// centrifugal/protocol's generated JSON encoder (client.pb_easyjson.go).

#include <charconv>
#include <cstring>

#include "herald/core/client_protocol.hpp"

namespace herald::core::client_protocol {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_uint(std::string& out, std::uint64_t value) {
  char buffer[20];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// Raw JSON from a trusted encoder, embedded as is. Valid JSON can hold a
// newline only as whitespace between tokens (never inside a string), so
// writing it as a space keeps the value and keeps the '\n' framing intact.
void append_raw_json(std::string& out, std::string_view raw) {
  const std::size_t start = out.size();
  out.append(raw);
  if (std::memchr(raw.data(), '\n', raw.size()) == nullptr) {
    return;
  }
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\n') {
      out[i] = ' ';
    }
  }
}

// Writes `{`, the members with their commas, and `}`. Member names are
// literals of this file, so they need no escaping.
class object_writer {
 public:
  explicit object_writer(std::string& out) : out_(out) { out_.push_back('{'); }

  object_writer(const object_writer&) = delete;
  object_writer& operator=(const object_writer&) = delete;

  ~object_writer() { out_.push_back('}'); }

  // Starts a member; the caller writes its value.
  std::string& key(std::string_view name) {
    if (!first_) {
      out_.push_back(',');
    }
    first_ = false;
    out_.push_back('"');
    out_.append(name);
    out_.append("\":");
    return out_;
  }

  void string(std::string_view name, std::string_view value) {
    append_json_string(key(name), value);
  }

  void string_if(std::string_view name, std::string_view value) {
    if (!value.empty()) {
      string(name, value);
    }
  }

  void raw_if(std::string_view name, std::string_view value) {
    if (!value.empty()) {
      append_raw_json(key(name), value);
    }
  }

  void number(std::string_view name, std::uint64_t value) { append_uint(key(name), value); }

  void number_if(std::string_view name, std::uint64_t value) {
    if (value != 0) {
      number(name, value);
    }
  }

  void boolean(std::string_view name, bool value) { key(name).append(value ? "true" : "false"); }

  void true_if(std::string_view name, bool value) {
    if (value) {
      key(name).append("true");
    }
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void append_client_info(std::string& out, const client_info_view& info) {
  // user and client are always written: the SDK copies both into the
  // join/leave/presence context without checking.
  object_writer object(out);
  object.string("user", info.user);
  object.string("client", info.client);
  object.raw_if("conn_info", info.conn_info);
  object.raw_if("chan_info", info.chan_info);
}

void append_publications(std::string& out, const std::vector<publication_view>& publications) {
  out.push_back('[');
  for (std::size_t i = 0; i < publications.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    append_publication(out, publications[i]);
  }
  out.push_back(']');
}

void append_subscribe_result(std::string& out, const subscribe_result& result) {
  object_writer object(out);
  object.true_if("expires", result.expires);
  object.number_if("ttl", result.ttl);
  object.true_if("recoverable", result.recoverable);
  object.string_if("epoch", result.epoch);
  if (!result.publications.empty()) {
    append_publications(object.key("publications"), result.publications);
  }
  object.true_if("recovered", result.recovered);
  object.number_if("offset", result.offset);
  object.true_if("positioned", result.positioned);
  object.raw_if("data", result.data);
  object.true_if("was_recovering", result.was_recovering);
}

// `{"id":N,"<method>":` - the caller writes the result object and one '}'.
void begin_reply(std::string& out, std::uint32_t id, std::string_view method) {
  out.append("{\"id\":");
  append_uint(out, id);
  out.append(",\"");
  out.append(method);
  out.append("\":");
}

// `{"push":{"channel":"c",` - the caller writes one member and "}}".
void begin_channel_push(std::string& out, std::string_view channel) {
  out.append("{\"push\":{\"channel\":");
  append_json_string(out, channel);
  out.push_back(',');
}

}  // namespace

void append_separator(std::string& out) {
  if (!out.empty()) {
    out.push_back('\n');
  }
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') {
      continue;
    }
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (byte) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', hex_digits[byte >> 4], hex_digits[byte & 0xf]};
        out.append(escape, sizeof escape);
        break;
      }
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
  out.push_back('"');
}

void append_error_reply(std::string& out, std::uint32_t id, const client_error& error) {
  begin_reply(out, id, "error");
  {
    object_writer object(out);
    object.number("code", error.code);
    object.string("message", error.message);
    object.true_if("temporary", error.temporary);
  }
  out.push_back('}');
}

void append_connect_reply(std::string& out, std::uint32_t id, const connect_result& result) {
  begin_reply(out, id, "connect");
  {
    object_writer object(out);
    object.string_if("client", result.client);
    object.string_if("version", result.version);
    object.true_if("expires", result.expires);
    object.number_if("ttl", result.ttl);
    object.raw_if("data", result.data);
    if (!result.subs.empty()) {
      std::string& subs = object.key("subs");
      subs.push_back('{');
      for (std::size_t i = 0; i < result.subs.size(); ++i) {
        if (i != 0) {
          subs.push_back(',');
        }
        append_json_string(subs, result.subs[i].first);
        subs.push_back(':');
        append_subscribe_result(subs, result.subs[i].second);
      }
      subs.push_back('}');
    }
    object.number_if("ping", result.ping);
    object.true_if("pong", result.pong);
    object.string_if("session", result.session);
    object.string_if("node", result.node);
  }
  out.push_back('}');
}

void append_subscribe_reply(std::string& out, std::uint32_t id, const subscribe_result& result) {
  begin_reply(out, id, "subscribe");
  append_subscribe_result(out, result);
  out.push_back('}');
}

void append_unsubscribe_reply(std::string& out, std::uint32_t id) {
  begin_reply(out, id, "unsubscribe");
  out.append("{}}");
}

void append_publish_reply(std::string& out, std::uint32_t id) {
  begin_reply(out, id, "publish");
  out.append("{}}");
}

void append_presence_reply(std::string& out, std::uint32_t id,
                           const std::vector<client_info_view>& clients) {
  begin_reply(out, id, "presence");
  out.append("{\"presence\":{");
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (i != 0) {
      out.push_back(',');
    }
    append_json_string(out, clients[i].client);
    out.push_back(':');
    append_client_info(out, clients[i]);
  }
  out.append("}}}");
}

void append_presence_stats_reply(std::string& out, std::uint32_t id, std::uint32_t num_clients,
                                 std::uint32_t num_users) {
  begin_reply(out, id, "presence_stats");
  {
    object_writer object(out);
    object.number("num_clients", num_clients);
    object.number("num_users", num_users);
  }
  out.push_back('}');
}

void append_history_reply(std::string& out, std::uint32_t id, const history_result& result) {
  begin_reply(out, id, "history");
  {
    object_writer object(out);
    append_publications(object.key("publications"), result.publications);
    object.string("epoch", result.epoch);
    object.number("offset", result.offset);
  }
  out.push_back('}');
}

void append_refresh_reply(std::string& out, std::uint32_t id, const refresh_result& result) {
  begin_reply(out, id, "refresh");
  {
    object_writer object(out);
    object.string_if("client", result.client);
    object.string_if("version", result.version);
    object.true_if("expires", result.expires);
    object.number_if("ttl", result.ttl);
  }
  out.push_back('}');
}

void append_sub_refresh_reply(std::string& out, std::uint32_t id, bool expires, std::uint32_t ttl) {
  begin_reply(out, id, "sub_refresh");
  {
    object_writer object(out);
    object.true_if("expires", expires);
    object.number_if("ttl", ttl);
  }
  out.push_back('}');
}

void append_publication(std::string& out, const publication_view& publication) {
  object_writer object(out);
  object.raw_if("data", publication.data);
  if (publication.info != nullptr) {
    append_client_info(object.key("info"), *publication.info);
  }
  object.number_if("offset", publication.offset);
}

void append_publication_push(std::string& out, std::string_view channel,
                             const publication_view& publication) {
  begin_channel_push(out, channel);
  out.append("\"pub\":");
  append_publication(out, publication);
  out.append("}}");
}

void append_join_push(std::string& out, std::string_view channel, const client_info_view& info) {
  begin_channel_push(out, channel);
  out.append("\"join\":{\"info\":");
  append_client_info(out, info);
  out.append("}}}");
}

void append_leave_push(std::string& out, std::string_view channel, const client_info_view& info) {
  begin_channel_push(out, channel);
  out.append("\"leave\":{\"info\":");
  append_client_info(out, info);
  out.append("}}}");
}

void append_unsubscribe_push(std::string& out, std::string_view channel,
                             const unsubscribe_advice& advice) {
  begin_channel_push(out, channel);
  out.append("\"unsubscribe\":");
  {
    // code and reason always: the SDK compares the code with 2500 and hands
    // the reason to the app.
    object_writer object(out);
    object.number("code", advice.code);
    object.string("reason", advice.reason);
  }
  out.append("}}");
}

}  // namespace herald::core::client_protocol
