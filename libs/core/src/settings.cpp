#include "herald/core/settings.hpp"

#include "herald/core/text.hpp"

#include <arpa/inet.h>
#include <unistd.h>
#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>
#include <thread>

namespace herald::core {
namespace {

// One key: parses its text into an `Owner` (settings, or the channel_options
// of the defaults or of a namespace) and formats it back.
template <class Owner>
struct basic_entry {
  option_info info;
  std::function<std::optional<std::string>(Owner&, std::string_view)> set;
  std::function<std::string(const Owner&)> get;
};

using option_entry = basic_entry<settings>;
using channel_entry = basic_entry<channel_options>;

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string format_duration(std::chrono::milliseconds value) {
  const auto ms = value.count();
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

template <class Owner, class Int>
basic_entry<Owner> unsigned_option(std::string_view name, Int Owner::*member, std::uint64_t min,
                                   std::uint64_t max, std::string_view help) {
  return {{name, option_kind::unsigned_integer, help},
          [member, min, max](Owner& s, std::string_view text) -> std::optional<std::string> {
            auto value = parse_unsigned(text);
            if (!value || *value < min || *value > max) {
              return "expected an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                     ", got '" + std::string{text} + "'";
            }
            s.*member = static_cast<Int>(*value);
            return std::nullopt;
          },
          [member](const Owner& s) { return std::to_string(s.*member); }};
}

option_entry string_option(std::string_view name, std::string settings::*member,
                           std::function<std::optional<std::string>(std::string_view)> check,
                           std::string_view help) {
  return {{name, option_kind::string, help},
          [member, check](settings& s, std::string_view text) -> std::optional<std::string> {
            if (auto problem = check(text)) {
              return problem;
            }
            s.*member = std::string{text};
            return std::nullopt;
          },
          [member](const settings& s) { return quote(s.*member); }};
}

template <class Owner>
basic_entry<Owner> bool_option(std::string_view name, bool Owner::*member, std::string_view help) {
  return {{name, option_kind::boolean, help},
          [member](Owner& s, std::string_view text) -> std::optional<std::string> {
            if (text == "true") {
              s.*member = true;
            } else if (text == "false") {
              s.*member = false;
            } else {
              return "expected true or false, got '" + std::string{text} + "'";
            }
            return std::nullopt;
          },
          [member](const Owner& s) { return std::string{s.*member ? "true" : "false"}; }};
}

// A duration of at least `min` (0: any).
option_entry duration_option(std::string_view name, std::chrono::milliseconds settings::*member,
                             std::chrono::milliseconds min, std::string_view help) {
  return {
      {name, option_kind::duration, help},
      [member, min](settings& s, std::string_view text) -> std::optional<std::string> {
        auto value = parse_duration(text);
        if (!value) {
          return "expected a duration such as 500ms, 25s or 2min, got '" + std::string{text} + "'";
        }
        if (*value < min) {
          return "must be at least " + format_duration(min) + ", got '" + std::string{text} + "'";
        }
        s.*member = *value;
        return std::nullopt;
      },
      [member](const settings& s) { return format_duration(s.*member); }};
}

option_entry duration_option(std::string_view name, std::chrono::milliseconds settings::*member,
                             std::string_view help) {
  return duration_option(name, member, std::chrono::milliseconds{0}, help);
}

channel_entry seconds_option(std::string_view name, std::chrono::seconds channel_options::*member,
                             std::string_view help) {
  return {{name, option_kind::duration, help},
          [member](channel_options& o, std::string_view text) -> std::optional<std::string> {
            // Sub-millisecond units would truncate ("100us" is not 0s).
            const auto unit = text.substr(text.size() < 2 ? 0 : text.size() - 2);
            auto value = parse_duration(text);
            if (!value || value->count() % 1000 != 0 || unit == "us" || unit == "ns") {
              return "expected a whole number of seconds such as 0s, 30s, 5min or 1h, got '" +
                     std::string{text} + "'";
            }
            o.*member = std::chrono::duration_cast<std::chrono::seconds>(*value);
            return std::nullopt;
          },
          [member](const channel_options& o) { return format_duration(o.*member); }};
}

std::optional<std::string> any_string(std::string_view) {
  return std::nullopt;
}

std::optional<std::string> ip_address(std::string_view text) {
  const std::string address{text};
  unsigned char buffer[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buffer) != 1 &&
      inet_pton(AF_INET6, address.c_str(), buffer) != 1) {
    return "expected an IPv4 or IPv6 address, got '" + std::string{text} + "'";
  }
  return std::nullopt;
}

std::optional<std::string> channel_name(std::string_view text) {
  if (text.empty() || text.size() > 255) {
    return "expected a channel name of 1 to 255 bytes";
  }
  return std::nullopt;
}

// A comma-separated list (an INI list in the file), spaces around items
// trimmed and empty items dropped; `check` vets the items and says what is
// wrong with a bad one.
option_entry list_option(
    std::string_view name, std::vector<std::string> settings::*member,
    std::function<std::optional<std::string>(const std::vector<std::string>&)> check,
    std::string_view help) {
  return {{name, option_kind::string_list, help},
          [member, check](settings& s, std::string_view text) -> std::optional<std::string> {
            std::vector<std::string> items;
            for (auto item : split_comma_list(text)) {
              items.emplace_back(item);
            }
            if (auto problem = check(items)) {
              return problem;
            }
            s.*member = std::move(items);
            return std::nullopt;
          },
          [member](const settings& s) {
            const auto& items = s.*member;
            std::string out = "[";
            for (std::size_t i = 0; i < items.size(); ++i) {
              out += (i == 0 ? "" : ", ") + quote(items[i]);
            }
            return out + "]";
          }};
}

std::optional<std::string> origin_patterns(const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    if (!valid_origin_pattern(pattern)) {
      return "bad origin pattern '" + pattern +
             "' (expected * or scheme://host[:port], * as wildcard)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> engine_name(std::string_view text) {
  if (text == "memory" || text == "redis") {
    return std::nullopt;
  }
  return "expected memory or redis, got '" + std::string{text} + "'";
}

std::optional<std::string> log_level_name(std::string_view text) {
  if (text == "error" || text == "warn" || text == "info" || text == "debug") {
    return std::nullopt;
  }
  return "expected error, warn, info or debug, got '" + std::string{text} + "'";
}

std::optional<std::string> log_format_name(std::string_view text) {
  if (text == "text" || text == "json") {
    return std::nullopt;
  }
  return "expected text or json, got '" + std::string{text} + "'";
}

// A host name: dot-separated labels of 1 to 63 of [A-Za-z0-9_-], not
// starting or ending with '-', 253 bytes at most. All digits and dots, it
// must be an IPv4 address.
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  bool numeric = true;
  std::size_t start = 0;
  while (start <= host.size()) {
    auto end = host.find('.', start);
    if (end == std::string_view::npos) {
      end = host.size();
    }
    const std::string_view label = host.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      const bool digit = c >= '0' && c <= '9';
      numeric = numeric && digit;
      if (!digit && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c != '-' && c != '_') {
        return false;
      }
    }
    start = end + 1;
  }
  if (numeric) {
    const std::string address{host};
    unsigned char buffer[sizeof(struct in_addr)];
    return inet_pton(AF_INET, address.c_str(), buffer) == 1;
  }
  return true;
}

// One redis-address entry: host:port, host a name, an IPv4 address or an
// IPv6 address in brackets, port 1..65535.
std::optional<std::string> redis_endpoint(std::string_view entry) {
  const auto bad = [entry](std::string_view why) -> std::optional<std::string> {
    return "bad entry '" + std::string{entry} + "': " + std::string{why} +
           " (expected host:port: a host name, an IPv4 address or an IPv6 address in brackets "
           "such as [::1]:6379, and a port 1..65535)";
  };
  if (entry.find("//") != std::string_view::npos) {
    return bad("a URL, not host:port");
  }
  const auto colon = entry.rfind(':');
  if (colon == std::string_view::npos) {
    return bad("no port");
  }
  const std::string_view host = entry.substr(0, colon);
  const auto port = parse_unsigned(entry.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) {
    return bad("the port must be 1..65535");
  }
  if (host.empty()) {
    return bad("no host");
  }
  if (host.front() == '[') {
    const std::string inner{host.substr(1, host.size() < 2 ? 0 : host.size() - 2)};
    unsigned char buffer[sizeof(struct in6_addr)];
    if (host.size() < 3 || host.back() != ']' || inet_pton(AF_INET6, inner.c_str(), buffer) != 1) {
      return bad("not an IPv6 address in brackets");
    }
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos) {
    return bad("an IPv6 address needs brackets");
  }
  if (!valid_host_name(host)) {
    return bad("not a host name or IPv4 address");
  }
  return std::nullopt;
}

// Each entry as redis_endpoint says, and each once (a repeat would skew
// the sharding).
std::optional<std::string> redis_endpoints(const std::vector<std::string>& entries) {
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (auto problem = redis_endpoint(*it)) {
      return problem;
    }
    if (std::find(entries.begin(), it, *it) != it) {
      return "entry '" + *it + "' is listed twice";
    }
  }
  return std::nullopt;
}

std::optional<std::string> redis_prefix(std::string_view text) {
  const bool ok =
      !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == ':' || c == '-';
      });
  if (!ok) {
    return "expected 1 to 64 of A-Z a-z 0-9 _ . : -, got '" + std::string{text} + "'";
  }
  return std::nullopt;
}

std::optional<std::string> node_name(std::string_view text) {
  if (text.size() > 128) {
    return "expected at most 128 bytes, got " + std::to_string(text.size());
  }
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return "expected no control characters";
  }
  return std::nullopt;
}

constexpr std::uint64_t unlimited = std::numeric_limits<std::uint32_t>::max();

// The channel options, valid at the top level (the defaults) and in a
// namespace; in channel_options' order.
const std::vector<channel_entry>& channel_entries() {
  using o = channel_options;
  static const std::vector<channel_entry> table{
      unsigned_option("history-size", &o::history_size, 0, unlimited,
                      "Publications kept per channel for history and recovery (0: no history; "
                      "needs history-ttl)"),
      seconds_option("history-ttl", &o::history_ttl,
                     "How long a channel's history lives after its last publication (0s: no "
                     "history; needs history-size)"),
      bool_option("presence", &o::presence, "Keep who is subscribed (presence, presence_stats)"),
      bool_option("join-leave", &o::join_leave,
                  "Join/leave pushes for subscribers that ask for them"),
      bool_option("force-push-join-leave", &o::force_push_join_leave,
                  "Join/leave pushes for every subscriber, asked for or not"),
      bool_option("force-recovery", &o::force_recovery,
                  "Recover missed publications for every subscriber (needs history)"),
      bool_option("allow-recovery", &o::allow_recovery,
                  "Recover missed publications when the subscribe request asks"),
      bool_option("force-positioning", &o::force_positioning,
                  "Track stream positions for every subscriber (needs history)"),
      bool_option("allow-positioning", &o::allow_positioning,
                  "Track stream positions when the subscribe request asks"),
      bool_option("allow-subscribe-for-client", &o::allow_subscribe_for_client,
                  "Clients may subscribe without a channel token (not to $private channels)"),
      bool_option(
          "allow-subscribe-for-anonymous", &o::allow_subscribe_for_anonymous,
          "Anonymous clients (user \"\") may subscribe too (with allow-subscribe-for-client)"),
      bool_option("allow-publish-for-subscriber", &o::allow_publish_for_subscriber,
                  "Subscribers of a channel may publish to it"),
      bool_option("allow-publish-for-client", &o::allow_publish_for_client,
                  "Any authenticated client may publish"),
      bool_option("allow-publish-for-anonymous", &o::allow_publish_for_anonymous,
                  "Anonymous clients may publish too (with the other allow-publish-*)"),
      bool_option("allow-presence-for-subscriber", &o::allow_presence_for_subscriber,
                  "Subscribers of a channel may ask for its presence"),
      bool_option("allow-presence-for-client", &o::allow_presence_for_client,
                  "Any authenticated client may ask for presence"),
      bool_option("allow-presence-for-anonymous", &o::allow_presence_for_anonymous,
                  "Anonymous clients may ask for presence too (with the other "
                  "allow-presence-*)"),
      bool_option("allow-history-for-subscriber", &o::allow_history_for_subscriber,
                  "Subscribers of a channel may ask for its history"),
      bool_option("allow-history-for-client", &o::allow_history_for_client,
                  "Any authenticated client may ask for history"),
      bool_option("allow-history-for-anonymous", &o::allow_history_for_anonymous,
                  "Anonymous clients may ask for history too (with the other allow-history-*)"),
      bool_option("allow-user-limited-channels", &o::allow_user_limited_channels,
                  "Channels such as dialog#42,43 admit only the users listed after '#'"),
  };
  return table;
}

const channel_entry* find_channel_entry(std::string_view key) {
  for (const auto& entry : channel_entries()) {
    if (entry.info.name == key) {
      return &entry;
    }
  }
  return nullptr;
}

// The keys of the process itself, in --help order.
const std::vector<option_entry>& process_entries() {
  static const std::vector<option_entry> table{
      unsigned_option("port", &settings::port, 0, 65535,
                      "TCP port to listen on (0: any free port, printed at start)"),
      string_option("address", &settings::address, ip_address, "Address to bind"),
      string_option("static-dir", &settings::static_dir, any_string,
                    "Folder served for every path that is not an endpoint"),
      string_option("tls-cert", &settings::tls_cert, any_string,
                    "TLS: PEM file of the server's certificate, its chain after it (empty: no "
                    "TLS); re-read on SIGHUP"),
      string_option("tls-key", &settings::tls_key, any_string,
                    "TLS: PEM file of the certificate's private key; re-read on SIGHUP"),
      unsigned_option("tls-port", &settings::tls_port, 0, 65535,
                      "TLS: a second port that speaks TLS while `port` stays plain (0: with a "
                      "certificate, `port` itself speaks TLS)"),
      unsigned_option("workers", &settings::workers, 0, 1024,
                      "I/O threads and actor scheduler threads (0: one per core)"),
      string_option("seed-channel", &settings::seed_channel, channel_name,
                    "Channel that /ws clients publish to and receive from"),
      list_option("allowed-origins", &settings::allowed_origins, origin_patterns,
                  "Origin patterns allowed to upgrade, comma-separated (e.g. "
                  "https://*.example.com); empty allows any"),
      unsigned_option("max-connections", &settings::max_connections, 0, unlimited,
                      "WebSocket connections held at once; more get 503 (0: no limit)"),
      unsigned_option("max-connections-per-ip", &settings::max_connections_per_ip, 0, unlimited,
                      "WebSocket connections held at once from one IP address; more get 503 "
                      "(0: no limit)"),
      unsigned_option("connection-rate-per-ip", &settings::connection_rate_per_ip, 0, unlimited,
                      "WebSocket upgrades per second from one IP address, in bursts of as many; "
                      "more get 429 (0: no limit)"),
      unsigned_option("max-http-connections", &settings::max_http_connections, 1, unlimited,
                      "HTTP connections held at once before they upgrade or end (keep-alive "
                      "ones included); more get 503 and are closed"),
      unsigned_option("max-message-bytes", &settings::max_message_bytes, 16, 64u << 20,
                      "Largest message a client may send; larger closes with 1009"),
      unsigned_option("client-queue-max-bytes", &settings::client_queue_max_bytes, 1024, 1u << 30,
                      "Unsent bytes held per client before it is disconnected as slow"),
      unsigned_option("publish-backlog-bytes", &settings::publish_backlog_bytes, 64 * 1024,
                      1ull << 40,
                      "Bytes of publications received from clients and not yet sent, over the "
                      "whole server; past it every publishing connection stops being read "
                      "until it drains"),
      bool_option("compression", &settings::compression,
                  "permessage-deflate for clients that offer it (browsers, Node's ws, Python's "
                  "websockets): each message compressed once and shared by every such "
                  "connection; their compressed messages are inflated, at most to "
                  "max-message-bytes"),
      unsigned_option("compression-min-bytes", &settings::compression_min_bytes, 0, 64u << 20,
                      "compression = true: messages smaller than this go uncompressed"),
      unsigned_option("compression-level", &settings::compression_level, 1, 9,
                      "compression = true: zlib level, 1 (fastest) to 9 (smallest)"),
      string_option("token-hmac-secret", &settings::token_hmac_secret, any_string,
                    "Client protocol: HMAC secret of HS256 connection and channel tokens "
                    "(empty: no token is valid)"),
      bool_option("allow-anonymous", &settings::allow_anonymous,
                  "Client protocol: let connections without a token in, as user \"\""),
      unsigned_option("client-channel-limit", &settings::client_channel_limit, 1, 1u << 20,
                      "Client protocol: channels one connection may subscribe to; more get "
                      "error 106"),
      string_option("api-key", &settings::api_key, any_string,
                    "Server API (POST /api/<method>): the key requests must carry in X-API-Key "
                    "or Authorization: apikey (empty: only loopback clients may call it)"),
      unsigned_option("api-max-body-bytes", &settings::api_max_body_bytes, 1024, 1u << 30,
                      "Server API: the largest request body; more get 413 (the key is checked "
                      "before any of it is read)"),
      bool_option("dashboard", &settings::dashboard,
                  "The live dashboard: every node publishes its figures once a second on a "
                  "private channel that POST /dashboard/token opens to dashboard-password"),
      string_option("dashboard-password", &settings::dashboard_password, any_string,
                    "dashboard = true: the password the dashboard page asks for (required "
                    "then)"),
      duration_option("ping-interval", &settings::ping_interval,
                      "Client protocol: server ping period, announced in the connect reply"),
      duration_option("pong-timeout", &settings::pong_timeout,
                      "Client protocol: time allowed for a pong, announced in the connect reply"),
      duration_option("idle-timeout", &settings::idle_timeout,
                      "/ws: a ping goes out after half of it without traffic; the connection "
                      "closes after all of it"),
      duration_option("handshake-timeout", &settings::handshake_timeout,
                      "Time allowed for an HTTP request or WebSocket handshake"),
      duration_option("shutdown-timeout", &settings::shutdown_timeout,
                      "On SIGTERM, time allowed to flush queued frames before closing"),
      duration_option("history-meta-ttl", &settings::history_meta_ttl,
                      "A channel's history position (epoch, offset) is forgotten this long after "
                      "its last use (0: kept while the server runs)"),
      unsigned_option("history-max-channels", &settings::history_max_channels, 1, unlimited,
                      "Channels that keep a history position at once; a new one makes the "
                      "server forget the least recently used"),
      string_option("engine", &settings::engine, engine_name,
                    "Where channels' publications, history and presence live: memory (this node "
                    "only) or redis (shared by every node on the same Redis)"),
      list_option("redis-address", &settings::redis_address, redis_endpoints,
                  "engine = redis: Redis servers as host:port, comma-separated ([::1]:6379 for "
                  "IPv6); with several, channels are sharded over them by a consistent hash of "
                  "the channel name"),
      string_option("redis-user", &settings::redis_user, any_string,
                    "engine = redis: Redis 6 ACL user (empty: none, or default with a password)"),
      string_option("redis-password", &settings::redis_password, any_string,
                    "engine = redis: password for AUTH (empty: no AUTH)"),
      unsigned_option("redis-db", &settings::redis_db, 0, 65535,
                      "engine = redis: database number (SELECT)"),
      string_option("redis-prefix", &settings::redis_prefix, redis_prefix,
                    "engine = redis: prefix of every key and pub/sub channel, so that several "
                    "clusters can share one Redis (1 to 64 of A-Z a-z 0-9 _ . : -)"),
      duration_option("redis-connect-timeout", &settings::redis_connect_timeout,
                      std::chrono::milliseconds{1},
                      "engine = redis: time allowed to connect (and authenticate) to a Redis "
                      "server"),
      duration_option("redis-io-timeout", &settings::redis_io_timeout, std::chrono::milliseconds{1},
                      "engine = redis: a command without a reply for this long counts the "
                      "connection as lost"),
      string_option("node-name", &settings::node_name, node_name,
                    "This node's name among the nodes sharing a Redis (empty: hostname:port, "
                    "resolved at start; at most 128 bytes)"),
      duration_option("presence-ttl", &settings::presence_ttl, std::chrono::milliseconds{1000},
                      "engine = redis: a presence entry lives this long unless its node "
                      "refreshes it (every third of it), so a node that dies leaves its clients "
                      "in presence at most this long (whole seconds, rounded up)"),
      string_option("log-level", &settings::log_level, log_level_name,
                    "Least severe log line written to stderr: error, warn, info or debug"),
      string_option("log-format", &settings::log_format, log_format_name,
                    "Log line format: text (key=value) or json (one object per line)"),
  };
  return table;
}

// A top-level channel option: sets the default, and with it the option of
// every namespace that does not set it itself.
option_entry channel_default_option(const channel_entry& channel) {
  option_info info = channel.info;
  info.channel_option = true;
  return {info,
          [channel](settings& s, std::string_view text) -> std::optional<std::string> {
            channel_options defaults = s.namespaces.defaults();
            if (auto problem = channel.set(defaults, text)) {
              return problem;
            }
            const std::string value = channel.get(defaults);
            s.namespaces.set_defaults(std::move(defaults));
            for (const auto& [name, keys] : s.namespace_keys) {
              const channel_options* current = s.namespaces.find_namespace(name);
              if (current == nullptr || keys.count(std::string{channel.info.name}) != 0) {
                continue;
              }
              channel_options inherited = *current;
              channel.set(inherited, value);
              s.namespaces.set_namespace(name, std::move(inherited));
            }
            return std::nullopt;
          },
          [channel](const settings& s) { return channel.get(s.namespaces.defaults()); }};
}

const std::vector<option_entry>& entries() {
  static const std::vector<option_entry> table = [] {
    std::vector<option_entry> out = process_entries();
    for (const auto& channel : channel_entries()) {
      out.push_back(channel_default_option(channel));
    }
    return out;
  }();
  return table;
}

constexpr std::string_view namespaces_prefix = "namespaces.";

// "namespaces.NAME.KEY": option KEY of namespace NAME; "namespaces.NAME"
// = "{}" (an empty [namespaces.NAME] section): namespace NAME with the
// defaults; "namespaces" = "{}": an empty [namespaces] section.
std::optional<config_error> apply_namespace_setting(settings& s, std::string_view key,
                                                    std::string_view text) {
  constexpr std::string_view empty_section = "{}";
  if (key == "namespaces") {
    if (text == empty_section) {
      return std::nullopt;
    }
    return config_error{std::string{key}, "expected [namespaces.NAME] sections"};
  }
  const std::string_view rest = key.substr(namespaces_prefix.size());
  const auto dot = rest.rfind('.');
  const channel_entry* option =
      dot == std::string_view::npos ? nullptr : find_channel_entry(rest.substr(dot + 1));
  const bool whole_namespace = option == nullptr && text == empty_section;
  const std::string_view name =
      whole_namespace || dot == std::string_view::npos ? rest : rest.substr(0, dot);
  const std::string namespace_key = std::string{namespaces_prefix} + std::string{name};
  if (!valid_namespace_name(name)) {
    return config_error{namespace_key,
                        "bad namespace name '" + std::string{name} +
                            "' (expected 2 or more of A-Z a-z 0-9 _ -, not starting with -)"};
  }
  if (!whole_namespace && dot == std::string_view::npos) {
    return config_error{namespace_key, "expected a [" + namespace_key +
                                           "] section of channel options, or flags --" +
                                           namespace_key + ".KEY=VALUE"};
  }
  if (!whole_namespace && option == nullptr) {
    const std::string what{rest.substr(dot + 1)};
    for (const auto& entry : entries()) {
      if (entry.info.name == what) {
        return config_error{std::string{key}, "'" + what +
                                                  "' is not a channel option; a namespace "
                                                  "takes channel options only"};
      }
    }
    return config_error{std::string{key}, "unknown channel option '" + what + "'"};
  }
  const channel_options* existing = s.namespaces.find_namespace(name);
  if (whole_namespace && existing != nullptr) {
    return std::nullopt;
  }
  channel_options options = existing != nullptr ? *existing : s.namespaces.defaults();
  if (option != nullptr) {
    if (auto problem = option->set(options, text)) {
      return config_error{std::string{key}, *problem};
    }
  }
  s.namespaces.set_namespace(std::string{name}, std::move(options));
  auto& keys = s.namespace_keys[std::string{name}];
  if (option != nullptr) {
    keys.insert(std::string{option->info.name});
  }
  return std::nullopt;
}

// Cross-key checks of one set of channel options: `prefix` is "" for the
// defaults and "namespaces.NAME." for a namespace; `own` says whether the
// namespace sets a key itself (else it is inherited from the defaults).
void check_channel_options(const channel_options& o, const std::string& prefix,
                           const std::function<bool(std::string_view)>& own,
                           std::vector<config_error>& errors) {
  const auto source = [&](std::string_view key) {
    return own(key) ? std::string{} : std::string{", inherited from the top-level default"};
  };
  const auto inherited = [&](std::string_view key) {
    return own(key) ? std::string{} : "; " + std::string{key} + " is on by the top-level default";
  };
  const bool size = o.history_size > 0;
  const bool ttl = o.history_ttl.count() > 0;
  if (size != ttl && (own("history-size") || own("history-ttl"))) {
    const std::string_view missing = size ? "history-ttl" : "history-size";
    const std::string_view given = size ? "history-size" : "history-ttl";
    const std::string value =
        size ? std::to_string(o.history_size) : std::to_string(o.history_ttl.count()) + "s";
    errors.push_back({prefix + std::string{missing},
                      "history needs both history-size and history-ttl: " + std::string{given} +
                          " is " + value + source(given) +
                          "; set both above 0 for history, or both to 0 for none"});
  }
  const bool history = size && ttl;
  if (o.force_recovery && !history &&
      (own("force-recovery") || own("history-size") || own("history-ttl"))) {
    errors.push_back({prefix + "force-recovery",
                      "recovery needs history (history-size and history-ttl above 0)" +
                          inherited("force-recovery")});
  }
  if (o.force_positioning && !history &&
      (own("force-positioning") || own("history-size") || own("history-ttl"))) {
    errors.push_back({prefix + "force-positioning",
                      "positioning needs history (history-size and history-ttl above 0)" +
                          inherited("force-positioning")});
  }
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Iterative glob with '*' only; backtracks to the last star.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

const std::vector<option_info>& option_table() {
  static const std::vector<option_info> infos = [] {
    std::vector<option_info> out;
    for (const auto& entry : entries()) {
      out.push_back(entry.info);
    }
    return out;
  }();
  return infos;
}

channel_options default_channel_options() {
  // Centrifugo's: everything off. A backend that owns its channels hands
  // out channel tokens, or a namespace opens what it wants open.
  return channel_options{};
}

bool valid_namespace_name(std::string_view name) {
  if (name.size() < 2 || name.front() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::optional<config_error> apply_setting(settings& s, std::string_view key,
                                          std::string_view text) {
  if (key == "namespaces" || key.substr(0, namespaces_prefix.size()) == namespaces_prefix) {
    return apply_namespace_setting(s, key, text);
  }
  for (const auto& entry : entries()) {
    if (entry.info.name == key) {
      if (auto problem = entry.set(s, text)) {
        return config_error{std::string{key}, *problem};
      }
      return std::nullopt;
    }
  }
  return config_error{std::string{key}, "unknown key"};
}

unsigned effective_workers(const settings& s) {
  if (s.workers != 0) {
    return s.workers;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {

// Both TLS files or neither, each a readable file. Whether they hold a
// certificate and its key is the transport's check (it needs OpenSSL).
void check_tls_files(const settings& s, std::vector<config_error>& errors) {
  if (s.tls_cert.empty() != s.tls_key.empty()) {
    errors.push_back(s.tls_cert.empty()
                         ? config_error{"tls-cert", "tls-key is set: set tls-cert too"}
                         : config_error{"tls-key", "tls-cert is set: set tls-key too"});
    return;
  }
  for (const auto& [key, path] : {std::pair{"tls-cert", &s.tls_cert}, {"tls-key", &s.tls_key}}) {
    std::error_code ec;
    if (path->empty()) {
      continue;
    }
    if (!std::filesystem::is_regular_file(*path, ec)) {
      errors.push_back({key, "'" + *path + "' is not a file"});
    } else if (::access(path->c_str(), R_OK) != 0) {
      errors.push_back({key, "'" + *path + "' is not readable"});
    }
  }
  if (s.tls_port != 0 && s.tls_cert.empty()) {
    errors.push_back({"tls-port", "needs tls-cert and tls-key"});
  } else if (s.tls_port != 0 && s.tls_port == s.port) {
    errors.push_back({"tls-port", "must differ from port"});
  }
}

}  // namespace

std::vector<config_error> check_settings(const settings& s) {
  std::vector<config_error> errors;
  std::error_code ec;
  if (!std::filesystem::is_directory(s.static_dir, ec)) {
    errors.push_back({"static-dir", "'" + s.static_dir + "' is not a readable folder"});
  } else if (::access(s.static_dir.c_str(), R_OK | X_OK) != 0) {
    errors.push_back({"static-dir", "'" + s.static_dir + "' is not readable"});
  }
  check_tls_files(s, errors);
  if (s.client_queue_max_bytes < s.max_message_bytes) {
    errors.push_back({"client-queue-max-bytes", "must be at least max-message-bytes (" +
                                                    std::to_string(s.max_message_bytes) + ")"});
  }
  if (s.idle_timeout < std::chrono::seconds{1}) {
    errors.push_back({"idle-timeout", "must be at least 1s"});
  }
  if (s.handshake_timeout < std::chrono::milliseconds{100}) {
    errors.push_back({"handshake-timeout", "must be at least 100ms"});
  }
  if (s.ping_interval < std::chrono::seconds{1}) {
    errors.push_back({"ping-interval", "must be at least 1s"});
  }
  if (s.pong_timeout < std::chrono::seconds{1}) {
    errors.push_back({"pong-timeout", "must be at least 1s"});
  } else if (s.pong_timeout >= s.ping_interval) {
    errors.push_back({"pong-timeout", "must be shorter than ping-interval"});
  }
  if (s.dashboard && s.dashboard_password.empty()) {
    errors.push_back({"dashboard-password", "dashboard = true needs a password"});
  }
  if (s.engine == "redis" && s.redis_address.empty()) {
    errors.push_back({"redis-address", "engine = redis needs at least one host:port"});
  }
  check_channel_options(
      s.namespaces.defaults(), "", [](std::string_view) { return true; }, errors);
  for (const auto& [name, options] : s.namespaces.namespaces()) {
    const auto keys = s.namespace_keys.find(name);
    const auto own = [&](std::string_view key) {
      return keys == s.namespace_keys.end() || keys->second.count(std::string{key}) != 0;
    };
    check_channel_options(options, std::string{namespaces_prefix} + name + ".", own, errors);
  }
  return errors;
}

std::string dump_settings(const settings& s) {
  std::ostringstream out;
  out << "; Herald effective configuration\n[global]\n";
  for (const auto& entry : entries()) {
    out << entry.info.name << " = " << entry.get(s) << "\n";
  }
  for (const auto& [name, options] : s.namespaces.namespaces()) {
    out << "\n[" << namespaces_prefix << name << "]\n";
    for (const auto& entry : channel_entries()) {
      out << entry.info.name << " = " << entry.get(options) << "\n";
    }
  }
  return out.str();
}

std::vector<std::pair<std::string_view, std::string>> setting_values(const settings& s) {
  std::vector<std::pair<std::string_view, std::string>> values;
  for (const auto& entry : entries()) {
    values.emplace_back(entry.info.name, entry.get(s));
  }
  return values;
}

std::string options_help() {
  std::ostringstream out;
  const settings defaults;
  bool channel_heading = false;
  for (const auto& entry : entries()) {
    if (entry.info.channel_option && !channel_heading) {
      channel_heading = true;
      out << "\n  Channel options (client protocol), the defaults of every channel; a namespace\n"
             "  overrides them in a [namespaces.NAME] section of the config file or with\n"
             "  --namespaces.NAME.KEY=VALUE:\n";
    }
    out << "  --" << entry.info.name << "=VALUE\n      " << entry.info.help << " (default "
        << entry.get(defaults) << ")\n";
  }
  return out.str();
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  auto number = parse_unsigned(text.substr(0, digits));
  if (!number || *number > (std::uint64_t{1} << 40)) {
    return std::nullopt;
  }
  const std::string_view unit = text.substr(digits);
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto n = static_cast<std::int64_t>(*number);
  if (unit.empty() || unit == "ms") {
    return milliseconds{n};
  }
  if (unit == "s") {
    return milliseconds{n * 1000};
  }
  if (unit == "min") {
    return milliseconds{n * 60'000};
  }
  if (unit == "h") {
    return milliseconds{n * 3'600'000};
  }
  if (unit == "us") {
    return duration_cast<milliseconds>(std::chrono::microseconds{n});
  }
  if (unit == "ns") {
    return duration_cast<milliseconds>(std::chrono::nanoseconds{n});
  }
  return std::nullopt;
}

bool valid_origin_pattern(std::string_view pattern) {
  if (pattern == "*") {
    return true;
  }
  const auto scheme_end = pattern.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return false;
  }
  for (char c : pattern.substr(0, scheme_end)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  const std::string_view authority = pattern.substr(scheme_end + 3);
  if (authority.empty()) {
    return false;
  }
  for (char c : authority) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == ':' || c == '*' || c == '[' || c == ']';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool origin_allowed(const std::vector<std::string>& patterns, std::string_view origin) {
  if (patterns.empty()) {
    return true;
  }
  std::string lowered{origin};
  for (char& c : lowered) {
    c = ascii_lower(c);
  }
  for (const auto& pattern : patterns) {
    std::string lowered_pattern = pattern;
    for (char& c : lowered_pattern) {
      c = ascii_lower(c);
    }
    if (wildcard_match(lowered_pattern, lowered)) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> key_from_environment_name(std::string_view name) {
  constexpr std::string_view prefix = "HERALD_";
  if (name.substr(0, prefix.size()) != prefix || name.size() == prefix.size()) {
    return std::nullopt;
  }
  std::string key;
  for (char c : name.substr(prefix.size())) {
    key.push_back(c == '_' ? '-' : ascii_lower(c));
  }
  return key;
}

}  // namespace herald::core
