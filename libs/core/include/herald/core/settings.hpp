#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "herald/core/channel_options.hpp"

namespace herald::core {

// The channel options of a client-protocol channel nothing configures:
// Centrifugo's defaults, everything off. Clients subscribe with a channel
// token, or where a namespace (or the top level) allows it; clients publish
// and read presence and history only where allowed. /ws clients are not
// concerned: they publish and receive on the seed channel as the
// tutorial's clients do, whatever the channel options say.
channel_options default_channel_options();

// Every setting of one Herald process, with its built-in default. The
// shipped config/herald.ini documents the same keys and defaults.
struct settings {
  std::uint16_t port = 8000;
  std::string address = "0.0.0.0";
  std::string static_dir = "public";
  // TLS: PEM files of the certificate (its chain may follow it in the same
  // file) and its private key. With both set, `port` speaks TLS, unless
  // tls-port is set too: then `port` stays plain and tls-port speaks TLS.
  std::string tls_cert;
  std::string tls_key;
  std::uint16_t tls_port = 0;  // 0: no separate TLS listener
  std::uint32_t workers = 0;   // 0: one per core
  std::string seed_channel = "broadcast";
  std::vector<std::string> allowed_origins;   // empty: any origin
  std::uint64_t max_connections = 0;          // 0: bounded only by open files
  std::uint64_t max_connections_per_ip = 0;   // WebSocket connections per address; 0: no limit
  std::uint64_t connection_rate_per_ip = 0;   // upgrades per second per address; 0: no limit
  std::uint64_t max_http_connections = 1024;  // HTTP connections not (yet) upgraded
  std::uint64_t max_message_bytes = 65536;
  std::uint64_t client_queue_max_bytes = 1048576;
  std::uint64_t publish_backlog_bytes = 64u << 20;  // publications not yet sent, server-wide
  // permessage-deflate with clients that offer it: each message compressed
  // once, for every connection that negotiated it (see permessage_deflate.hpp).
  bool compression = false;
  std::uint64_t compression_min_bytes = 512;   // smaller messages go uncompressed
  std::uint32_t compression_level = 6;         // zlib's 1 (fastest) to 9 (smallest)
  std::string token_hmac_secret;               // empty: no token is valid
  bool allow_anonymous = false;                // client protocol: connect without a token
  std::uint64_t client_channel_limit = 128;    // Centrifugo's default client_channel_limit
  std::string api_key;                         // empty: /api answers loopback clients only
  std::uint64_t api_max_body_bytes = 1048576;  // a server API request's body
  bool dashboard = false;                      // /dashboard.html's token endpoint and stats channel
  std::string dashboard_password;              // required with dashboard = true
  std::chrono::milliseconds ping_interval{25000};
  std::chrono::milliseconds pong_timeout{8000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::milliseconds shutdown_timeout{10000};
  std::chrono::milliseconds history_meta_ttl{24 * 3600 * 1000};
  std::uint64_t history_max_channels = 100000;  // channels with a history position

  // Where channels' publications, history and presence live: "memory" (this
  // node only) or "redis" (shared by every node on the same Redis).
  std::string engine = "memory";
  // host:port entries (host: a name, IPv4, or IPv6 in brackets); with
  // several, channels are sharded over them by a consistent hash of the
  // channel name. engine = redis needs at least one.
  std::vector<std::string> redis_address{"127.0.0.1:6379"};
  std::string redis_user;      // Redis 6 ACL user; empty: none (or "default" with a password)
  std::string redis_password;  // empty: no AUTH
  std::uint32_t redis_db = 0;  // SELECT, 0..65535
  std::string redis_prefix = "herald";  // of every key and pub/sub channel
  std::chrono::milliseconds redis_connect_timeout{1000};
  std::chrono::milliseconds redis_io_timeout{4000};  // a command unanswered this long: lost
  std::string node_name;                             // empty: "hostname:port", resolved at start
  std::chrono::milliseconds presence_ttl{60000};     // Centrifugo's 60 s

  // Log lines on stderr: the least severe level written (error, warn, info,
  // debug) and the line format (text: key=value, json: one object a line).
  std::string log_level = "info";
  std::string log_format = "text";

  // Channel options (client protocol): namespaces.defaults() are set by the
  // top-level keys (history-size, presence, ...) and apply to channels
  // without a namespace; each namespace ([namespaces.NAME] in the file,
  // --namespaces.NAME.KEY=VALUE as a flag) starts from those defaults and
  // overrides some of them. Always resolved: hand it to the hub as it is.
  channel_namespaces namespaces{default_channel_options()};
  // Bookkeeping for apply_setting: per namespace configured through it, the
  // option keys that the namespace sets itself. Its other options follow
  // the top-level defaults, also when those are set later (a flag after
  // the file). Namespaces added to `namespaces` directly are left alone.
  std::map<std::string, std::set<std::string>, std::less<>> namespace_keys;
};

// `workers` with 0 resolved to one per core (at least 1): the count of I/O
// threads and of actor scheduler threads alike.
unsigned effective_workers(const settings& s);

// A bad value, reported as one line naming the key.
struct config_error {
  std::string key;
  std::string message;
  std::string line() const { return "herald: config: " + key + ": " + message; }
};

enum class option_kind { unsigned_integer, string, string_list, duration, boolean };

struct option_info {
  std::string_view name;
  option_kind kind;
  std::string_view help;
  // A channel option: a top-level default that a namespace may override.
  bool channel_option = false;
};

// All keys, in the order --help and --dump-config list them; the channel
// options come last.
const std::vector<option_info>& option_table();

// Whether `name` may name a namespace: 2 or more of [-A-Za-z0-9_], not
// starting with '-'. That is Centrifugo's ^[-a-zA-Z0-9_.]{2,}$ without the
// dot and the leading dash, which CAF's INI sections cannot spell.
bool valid_namespace_name(std::string_view name);

// Sets `key` from its textual form (INI value, environment variable or
// command-line flag). Unknown keys and values of the wrong type or out of
// range are errors; `settings` is unchanged then.
// A channel option of a namespace is "namespaces.NAME.KEY" (what the config
// file's [namespaces.NAME] section flattens to); "namespaces.NAME" with the
// text "{}" (an empty section) adds namespace NAME with the defaults.
std::optional<config_error> apply_setting(settings& s, std::string_view key, std::string_view text);

// Checks that need the whole picture or the file system: the static
// directory must be a readable folder, limits must be consistent, history
// needs both history-size and history-ttl, forced recovery and positioning
// need history (for the defaults and for every namespace).
std::vector<config_error> check_settings(const settings& s);

// The effective settings, as an INI file that Herald accepts back: [global]
// with every key, then one [namespaces.NAME] section per namespace with all
// of its (resolved) channel options.
std::string dump_settings(const settings& s);

// Every top-level key with its value as --dump-config writes it (strings
// quoted), in option_table() order.
std::vector<std::pair<std::string_view, std::string>> setting_values(const settings& s);

// One line per key for --help.
std::string options_help();

// Parses "25s", "500ms", "2min", "1h", "100us", "7ns" or a bare number of
// milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Whether an allowed-origins pattern is well-formed: `*`, or
// scheme://host[:port] where host and port may contain `*` wildcards.
bool valid_origin_pattern(std::string_view pattern);

// Whether `origin` matches one of `patterns` (empty: everything matches).
bool origin_allowed(const std::vector<std::string>& patterns, std::string_view origin);

// Maps HERALD_STATIC_DIR to static-dir; nullopt for other variables.
std::optional<std::string> key_from_environment_name(std::string_view name);

}  // namespace herald::core
