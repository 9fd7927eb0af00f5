#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include "herald/core/settings.hpp"
#include "herald/core/settings_sources.hpp"
#include "herald/core/text.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using herald::core::apply_setting;
using herald::core::apply_settings;
using herald::core::channel_options;
using herald::core::check_settings;
using herald::core::command_line;
using herald::core::config_error;
using herald::core::default_channel_options;
using herald::core::dump_settings;
using herald::core::key_from_environment_name;
using herald::core::key_values;
using herald::core::option_kind;
using herald::core::option_table;
using herald::core::options_help;
using herald::core::origin_allowed;
using herald::core::parse_command_line;
using herald::core::parse_duration;
using herald::core::read_environment;
using herald::core::settings;
using herald::core::valid_namespace_name;
using herald::core::valid_origin_pattern;

namespace {

// Applies one setting and requires success.
void set_ok(settings& s, std::string_view key, std::string_view text) {
  INFO("key: " << key << ", text: '" << text << "'");
  const auto error = apply_setting(s, key, text);
  if (error) {
    FAIL(error->line());
  }
}

// Applies one setting, requires an error naming the key, and requires that
// `s` did not change. Returns the message.
std::string set_bad(settings& s, std::string_view key, std::string_view text) {
  INFO("key: " << key << ", text: '" << text << "'");
  const std::string before = dump_settings(s);
  const auto error = apply_setting(s, key, text);
  REQUIRE(error.has_value());
  REQUIRE(error->key == key);
  REQUIRE_FALSE(error->message.empty());
  REQUIRE(dump_settings(s) == before);
  return error->message;
}

void require_same_options(const channel_options& a, const channel_options& b) {
  CHECK(a.presence == b.presence);
  CHECK(a.join_leave == b.join_leave);
  CHECK(a.force_push_join_leave == b.force_push_join_leave);
  CHECK(a.history_size == b.history_size);
  CHECK(a.history_ttl == b.history_ttl);
  CHECK(a.force_positioning == b.force_positioning);
  CHECK(a.allow_positioning == b.allow_positioning);
  CHECK(a.force_recovery == b.force_recovery);
  CHECK(a.allow_recovery == b.allow_recovery);
  CHECK(a.allow_subscribe_for_client == b.allow_subscribe_for_client);
  CHECK(a.allow_subscribe_for_anonymous == b.allow_subscribe_for_anonymous);
  CHECK(a.allow_publish_for_subscriber == b.allow_publish_for_subscriber);
  CHECK(a.allow_publish_for_client == b.allow_publish_for_client);
  CHECK(a.allow_publish_for_anonymous == b.allow_publish_for_anonymous);
  CHECK(a.allow_presence_for_subscriber == b.allow_presence_for_subscriber);
  CHECK(a.allow_presence_for_client == b.allow_presence_for_client);
  CHECK(a.allow_presence_for_anonymous == b.allow_presence_for_anonymous);
  CHECK(a.allow_history_for_subscriber == b.allow_history_for_subscriber);
  CHECK(a.allow_history_for_client == b.allow_history_for_client);
  CHECK(a.allow_history_for_anonymous == b.allow_history_for_anonymous);
  CHECK(a.allow_user_limited_channels == b.allow_user_limited_channels);
}

void require_same(const settings& a, const settings& b) {
  CHECK(a.port == b.port);
  CHECK(a.address == b.address);
  CHECK(a.static_dir == b.static_dir);
  CHECK(a.workers == b.workers);
  CHECK(a.seed_channel == b.seed_channel);
  CHECK(a.allowed_origins == b.allowed_origins);
  CHECK(a.max_connections == b.max_connections);
  CHECK(a.max_message_bytes == b.max_message_bytes);
  CHECK(a.client_queue_max_bytes == b.client_queue_max_bytes);
  CHECK(a.ping_interval == b.ping_interval);
  CHECK(a.pong_timeout == b.pong_timeout);
  CHECK(a.idle_timeout == b.idle_timeout);
  CHECK(a.handshake_timeout == b.handshake_timeout);
  CHECK(a.shutdown_timeout == b.shutdown_timeout);
  CHECK(a.history_meta_ttl == b.history_meta_ttl);
  CHECK(a.client_channel_limit == b.client_channel_limit);
  CHECK(a.api_key == b.api_key);
  CHECK(a.engine == b.engine);
  CHECK(a.redis_address == b.redis_address);
  CHECK(a.redis_user == b.redis_user);
  CHECK(a.redis_password == b.redis_password);
  CHECK(a.redis_db == b.redis_db);
  CHECK(a.redis_prefix == b.redis_prefix);
  CHECK(a.redis_connect_timeout == b.redis_connect_timeout);
  CHECK(a.redis_io_timeout == b.redis_io_timeout);
  CHECK(a.node_name == b.node_name);
  require_same_options(a.namespaces.defaults(), b.namespaces.defaults());
  REQUIRE(a.namespaces.namespace_count() == b.namespaces.namespace_count());
  for (const auto& [name, options] : a.namespaces.namespaces()) {
    INFO("namespace: " << name);
    const channel_options* other = b.namespaces.find_namespace(name);
    REQUIRE(other != nullptr);
    require_same_options(options, *other);
  }
}

bool has_error_for(const std::vector<config_error>& errors, std::string_view key) {
  for (const auto& error : errors) {
    if (error.key == key) {
      return true;
    }
  }
  return false;
}

// Reads a string that dump_settings quoted; requires it to span all of `text`.
std::string unquote(std::string_view text, std::size_t& pos) {
  REQUIRE(pos < text.size());
  REQUIRE(text[pos] == '"');
  std::string out;
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
      REQUIRE(pos < text.size());
      out.push_back(text[pos]);
    } else if (text[pos] == '"') {
      ++pos;
      return out;
    } else {
      out.push_back(text[pos]);
    }
  }
  FAIL("unterminated string: " << text);
  return out;
}

// Turns a dump back into key/value pairs the way a config loader would:
// quoted strings are unescaped, a list becomes a comma-separated value and
// the keys of a [namespaces.NAME] section become namespaces.NAME.KEY.
key_values parse_dump(const std::string& dump) {
  key_values values;
  std::istringstream in{dump};
  std::string line;
  std::string section;  // "namespaces.chat." inside [namespaces.chat]
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ';') {
      continue;
    }
    if (line[0] == '[') {
      REQUIRE(line.back() == ']');
      const std::string name = line.substr(1, line.size() - 2);
      section = name == "global" ? "" : name + ".";
      continue;
    }
    const auto equals = line.find(" = ");
    REQUIRE(equals != std::string::npos);
    const std::string key = section + line.substr(0, equals);
    const std::string_view raw = std::string_view{line}.substr(equals + 3);
    std::string value;
    if (!raw.empty() && raw[0] == '"') {
      std::size_t pos = 0;
      value = unquote(raw, pos);
      REQUIRE(pos == raw.size());
    } else if (!raw.empty() && raw[0] == '[') {
      REQUIRE(raw.back() == ']');
      std::size_t pos = 1;
      while (raw[pos] != ']') {
        if (!value.empty()) {
          value += ",";
        }
        value += unquote(raw, pos);
        if (raw.substr(pos, 2) == ", ") {
          pos += 2;
        }
      }
      REQUIRE(pos + 1 == raw.size());
    } else {
      value = std::string{raw};
    }
    values.emplace_back(key, value);
  }
  return values;
}

// A temporary folder, removed at the end of the test.
class temp_dir {
 public:
  temp_dir() {
    static std::atomic<unsigned> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ =
        fs::temp_directory_path() / ("herald_settings_test_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

TEST_CASE("settings defaults", "[settings]") {
  const settings s;
  REQUIRE(s.port == 8000);
  REQUIRE(s.address == "0.0.0.0");
  REQUIRE(s.static_dir == "public");
  REQUIRE(s.workers == 0);
  REQUIRE(s.seed_channel == "broadcast");
  REQUIRE(s.allowed_origins.empty());
  REQUIRE(s.max_connections == 0);
  REQUIRE(s.max_message_bytes == 65536);
  REQUIRE(s.client_queue_max_bytes == 1048576);
  REQUIRE(s.ping_interval == 25s);
  REQUIRE(s.pong_timeout == 8s);
  REQUIRE(s.idle_timeout == 60s);
  REQUIRE(s.handshake_timeout == 10s);
  REQUIRE(s.shutdown_timeout == 10s);
  REQUIRE(s.engine == "memory");
  REQUIRE(s.redis_address == std::vector<std::string>{"127.0.0.1:6379"});
  REQUIRE(s.redis_user.empty());
  REQUIRE(s.redis_password.empty());
  REQUIRE(s.redis_db == 0);
  REQUIRE(s.redis_prefix == "herald");
  REQUIRE(s.redis_connect_timeout == 1s);
  REQUIRE(s.redis_io_timeout == 4s);
  REQUIRE(s.node_name.empty());
  REQUIRE(s.presence_ttl == 60s);
}

TEST_CASE("option_table lists every key once, in order", "[settings]") {
  const auto& table = option_table();
  std::vector<std::string> names;
  for (const auto& option : table) {
    names.emplace_back(option.name);
    REQUIRE_FALSE(option.help.empty());
  }
  REQUIRE(names ==
          std::vector<std::string>{
              "port", "address", "static-dir", "tls-cert", "tls-key", "tls-port", "workers",
              "seed-channel", "allowed-origins", "max-connections", "max-connections-per-ip",
              "connection-rate-per-ip", "max-http-connections", "max-message-bytes",
              "client-queue-max-bytes", "publish-backlog-bytes", "compression",
              "compression-min-bytes", "compression-level", "token-hmac-secret", "allow-anonymous",
              "client-channel-limit", "api-key", "api-max-body-bytes",
              // the dashboard
              "dashboard", "dashboard-password",
              // the rest
              "ping-interval", "pong-timeout", "idle-timeout", "handshake-timeout",
              "shutdown-timeout", "history-meta-ttl", "history-max-channels", "engine",
              "redis-address", "redis-user", "redis-password", "redis-db", "redis-prefix",
              "redis-connect-timeout", "redis-io-timeout", "node-name", "presence-ttl",
              // logs
              "log-level", "log-format",
              // channel options
              "history-size", "history-ttl", "presence", "join-leave", "force-push-join-leave",
              "force-recovery", "allow-recovery", "force-positioning", "allow-positioning",
              "allow-subscribe-for-client", "allow-subscribe-for-anonymous",
              "allow-publish-for-subscriber", "allow-publish-for-client",
              "allow-publish-for-anonymous", "allow-presence-for-subscriber",
              "allow-presence-for-client", "allow-presence-for-anonymous",
              "allow-history-for-subscriber", "allow-history-for-client",
              "allow-history-for-anonymous", "allow-user-limited-channels"});
  const auto kind_of = [&](std::string_view name) {
    for (const auto& info : table) {
      if (info.name == name) {
        return info.kind;
      }
    }
    FAIL("no key " << name);
    return option_kind::string;
  };
  REQUIRE(kind_of("port") == option_kind::unsigned_integer);
  REQUIRE(kind_of("address") == option_kind::string);
  REQUIRE(kind_of("allowed-origins") == option_kind::string_list);
  REQUIRE(kind_of("token-hmac-secret") == option_kind::string);
  REQUIRE(kind_of("allow-anonymous") == option_kind::boolean);
  REQUIRE(kind_of("client-channel-limit") == option_kind::unsigned_integer);
  REQUIRE(kind_of("api-key") == option_kind::string);
  REQUIRE(kind_of("api-max-body-bytes") == option_kind::unsigned_integer);
  REQUIRE(kind_of("max-connections-per-ip") == option_kind::unsigned_integer);
  REQUIRE(kind_of("ping-interval") == option_kind::duration);
  REQUIRE(kind_of("history-meta-ttl") == option_kind::duration);
  REQUIRE(kind_of("engine") == option_kind::string);
  REQUIRE(kind_of("redis-address") == option_kind::string_list);
  REQUIRE(kind_of("redis-user") == option_kind::string);
  REQUIRE(kind_of("redis-password") == option_kind::string);
  REQUIRE(kind_of("redis-db") == option_kind::unsigned_integer);
  REQUIRE(kind_of("redis-prefix") == option_kind::string);
  REQUIRE(kind_of("redis-connect-timeout") == option_kind::duration);
  REQUIRE(kind_of("redis-io-timeout") == option_kind::duration);
  REQUIRE(kind_of("node-name") == option_kind::string);
  REQUIRE(kind_of("history-size") == option_kind::unsigned_integer);
  REQUIRE(kind_of("history-ttl") == option_kind::duration);
  // The channel options come last, from history-size on; after its two
  // history keys, all are booleans.
  std::size_t first_channel_option = 0;
  while (table[first_channel_option].name != "history-size") {
    ++first_channel_option;
  }
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO("key: " << table[i].name);
    REQUIRE(table[i].channel_option == (i >= first_channel_option));
    if (i >= first_channel_option + 2) {
      REQUIRE(table[i].kind == option_kind::boolean);
    }
  }
  // Stable storage: the same object every call.
  REQUIRE(&option_table() == &table);
}

TEST_CASE("config_error line names the key", "[settings]") {
  const config_error error{"port", "expected an integer"};
  REQUIRE(error.line() == "herald: config: port: expected an integer");
}

TEST_CASE("apply_setting: port", "[settings]") {
  settings s;
  set_ok(s, "port", "8080");
  REQUIRE(s.port == 8080);
  set_ok(s, "port", "0");
  REQUIRE(s.port == 0);
  set_ok(s, "port", "65535");
  REQUIRE(s.port == 65535);
  set_ok(s, "port", "00080");
  REQUIRE(s.port == 80);

  REQUIRE(set_bad(s, "port", "65536") == "expected an integer in 0..65535, got '65536'");
  for (const char* bad : {"", "-1", "+80", " 80", "80 ", "80x", "0x50", "8e3", "80.0", "abc",
                          "99999999999999999999999"}) {
    set_bad(s, "port", bad);
  }
  REQUIRE(s.port == 80);
}

TEST_CASE("apply_setting: address", "[settings]") {
  settings s;
  for (const char* good :
       {"127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1", "192.168.1.20", "2001:db8::42"}) {
    set_ok(s, "address", good);
    REQUIRE(s.address == good);
  }
  for (const char* bad : {"", "localhost", "256.0.0.1", "1.2.3", "1.2.3.4.5", "[::1]",
                          "127.0.0.1:80", " 127.0.0.1", "::g"}) {
    const auto message = set_bad(s, "address", bad);
    REQUIRE(message == "expected an IPv4 or IPv6 address, got '" + std::string{bad} + "'");
  }
  REQUIRE(s.address == "2001:db8::42");
}

TEST_CASE("apply_setting: static-dir takes any string", "[settings]") {
  settings s;
  set_ok(s, "static-dir", "/srv/www");
  REQUIRE(s.static_dir == "/srv/www");
  set_ok(s, "static-dir", "relative/dir with space");
  REQUIRE(s.static_dir == "relative/dir with space");
  set_ok(s, "static-dir", "quote\"and\\backslash");
  REQUIRE(s.static_dir == "quote\"and\\backslash");
}

TEST_CASE("apply_setting: workers", "[settings]") {
  settings s;
  set_ok(s, "workers", "4");
  REQUIRE(s.workers == 4);
  set_ok(s, "workers", "0");
  REQUIRE(s.workers == 0);
  set_ok(s, "workers", "1024");
  REQUIRE(s.workers == 1024);
  REQUIRE(set_bad(s, "workers", "1025") == "expected an integer in 0..1024, got '1025'");
  set_bad(s, "workers", "-4");
  set_bad(s, "workers", "four");
  REQUIRE(s.workers == 1024);
}

TEST_CASE("apply_setting: seed-channel", "[settings]") {
  settings s;
  set_ok(s, "seed-channel", "chat");
  REQUIRE(s.seed_channel == "chat");
  const std::string longest(255, 'c');
  set_ok(s, "seed-channel", longest);
  REQUIRE(s.seed_channel == longest);
  REQUIRE(set_bad(s, "seed-channel", "") == "expected a channel name of 1 to 255 bytes");
  set_bad(s, "seed-channel", std::string(256, 'c'));
  REQUIRE(s.seed_channel == longest);
}

TEST_CASE("apply_setting: allowed-origins", "[settings]") {
  settings s;
  set_ok(s, "allowed-origins", "https://example.com");
  REQUIRE(s.allowed_origins == std::vector<std::string>{"https://example.com"});

  set_ok(s, "allowed-origins", " https://a.example.com ,http://*.b.org:8080,  *  ");
  REQUIRE(s.allowed_origins ==
          std::vector<std::string>{"https://a.example.com", "http://*.b.org:8080", "*"});

  // Empty items are skipped; an empty value allows every origin again.
  set_ok(s, "allowed-origins", ",https://c.net,,");
  REQUIRE(s.allowed_origins == std::vector<std::string>{"https://c.net"});
  set_ok(s, "allowed-origins", "");
  REQUIRE(s.allowed_origins.empty());
  set_ok(s, "allowed-origins", " , ");
  REQUIRE(s.allowed_origins.empty());

  set_ok(s, "allowed-origins", "https://kept.example");
  const auto message = set_bad(s, "allowed-origins", "https://ok.example, example.com");
  REQUIRE(message.find("'example.com'") != std::string::npos);
  set_bad(s, "allowed-origins", "https://example.com/");
  set_bad(s, "allowed-origins", "https://");
  REQUIRE(s.allowed_origins == std::vector<std::string>{"https://kept.example"});
}

TEST_CASE("apply_setting: max-connections", "[settings]") {
  settings s;
  set_ok(s, "max-connections", "10000");
  REQUIRE(s.max_connections == 10000);
  set_ok(s, "max-connections", "4294967295");
  REQUIRE(s.max_connections == 4294967295u);
  set_ok(s, "max-connections", "0");
  REQUIRE(s.max_connections == 0);
  set_bad(s, "max-connections", "4294967296");
  set_bad(s, "max-connections", "-1");
  REQUIRE(s.max_connections == 0);
}

TEST_CASE("apply_setting: compression keys", "[settings]") {
  herald::core::settings s;
  REQUIRE_FALSE(s.compression);
  REQUIRE(s.compression_min_bytes == 512);
  REQUIRE(s.compression_level == 6);
  set_ok(s, "compression", "true");
  REQUIRE(s.compression);
  set_ok(s, "compression-min-bytes", "0");
  REQUIRE(s.compression_min_bytes == 0);
  set_ok(s, "compression-level", "9");
  REQUIRE(s.compression_level == 9);
  REQUIRE(set_bad(s, "compression-level", "0") == "expected an integer in 1..9, got '0'");
  REQUIRE(set_bad(s, "compression-level", "10") == "expected an integer in 1..9, got '10'");
}

TEST_CASE("apply_setting: max-message-bytes", "[settings]") {
  settings s;
  set_ok(s, "max-message-bytes", "16");
  REQUIRE(s.max_message_bytes == 16);
  set_ok(s, "max-message-bytes", "67108864");
  REQUIRE(s.max_message_bytes == 67108864);
  REQUIRE(set_bad(s, "max-message-bytes", "15") == "expected an integer in 16..67108864, got '15'");
  set_bad(s, "max-message-bytes", "67108865");
  set_bad(s, "max-message-bytes", "0");
  set_bad(s, "max-message-bytes", "64k");
  REQUIRE(s.max_message_bytes == 67108864);
}

TEST_CASE("apply_setting: client-queue-max-bytes", "[settings]") {
  settings s;
  set_ok(s, "client-queue-max-bytes", "1024");
  REQUIRE(s.client_queue_max_bytes == 1024);
  set_ok(s, "client-queue-max-bytes", "1073741824");
  REQUIRE(s.client_queue_max_bytes == 1073741824);
  set_bad(s, "client-queue-max-bytes", "1023");
  set_bad(s, "client-queue-max-bytes", "1073741825");
  REQUIRE(s.client_queue_max_bytes == 1073741824);
}

TEST_CASE("apply_setting: durations", "[settings]") {
  settings s;
  set_ok(s, "ping-interval", "30s");
  REQUIRE(s.ping_interval == 30s);
  set_ok(s, "pong-timeout", "1500ms");
  REQUIRE(s.pong_timeout == 1500ms);
  set_ok(s, "idle-timeout", "2min");
  REQUIRE(s.idle_timeout == 2min);
  set_ok(s, "handshake-timeout", "750");
  REQUIRE(s.handshake_timeout == 750ms);
  set_ok(s, "shutdown-timeout", "1h");
  REQUIRE(s.shutdown_timeout == 1h);

  for (const char* key :
       {"ping-interval", "pong-timeout", "idle-timeout", "handshake-timeout", "shutdown-timeout"}) {
    for (const char* bad : {"", "s", "5 s", "-5s", "1.5s", "5m", "5S", "5sec", "ten"}) {
      const auto message = set_bad(s, key, bad);
      REQUIRE(message ==
              "expected a duration such as 500ms, 25s or 2min, got '" + std::string{bad} + "'");
    }
  }
  REQUIRE(s.shutdown_timeout == 1h);
}

TEST_CASE("apply_setting: unknown keys", "[settings]") {
  settings s;
  for (const char* key :
       {"", "prot", "Port", "PORT", "static_dir", "--port", "port ", "config-file"}) {
    INFO("key: '" << key << "'");
    const auto error = apply_setting(s, key, "1");
    REQUIRE(error.has_value());
    REQUIRE(error->key == key);
    REQUIRE(error->message == "unknown key");
  }
  require_same(s, settings{});
}

TEST_CASE("parse_duration units", "[settings]") {
  REQUIRE(parse_duration("0") == 0ms);
  REQUIRE(parse_duration("250") == 250ms);
  REQUIRE(parse_duration("500ms") == 500ms);
  REQUIRE(parse_duration("25s") == 25s);
  REQUIRE(parse_duration("0s") == 0ms);
  REQUIRE(parse_duration("2min") == 2min);
  REQUIRE(parse_duration("1h") == 1h);
  REQUIRE(parse_duration("36h") == 36h);
  // Sub-millisecond units truncate to whole milliseconds.
  REQUIRE(parse_duration("100us") == 0ms);
  REQUIRE(parse_duration("1500us") == 1ms);
  REQUIRE(parse_duration("7ns") == 0ms);
  REQUIRE(parse_duration("2000000ns") == 2ms);
  // The largest accepted number, in the largest unit, does not overflow.
  REQUIRE(parse_duration("1099511627776") == std::chrono::milliseconds{1099511627776});
  REQUIRE(parse_duration("1099511627776h") == std::chrono::milliseconds{1099511627776 * 3'600'000});
}

TEST_CASE("parse_duration rejects malformed text", "[settings]") {
  for (const char* bad : {"",
                          "ms",
                          "s",
                          "h",
                          "-1",
                          "-1s",
                          "+1s",
                          "1.5s",
                          "1,5s",
                          " 1s",
                          "1s ",
                          "1 s",
                          "1m",
                          "1sec",
                          "1hr",
                          "1S",
                          "1MS",
                          "1d",
                          "1s1",
                          "1msx",
                          "s1",
                          "1099511627777",
                          "99999999999999999999s"}) {
    INFO("text: '" << bad << "'");
    REQUIRE_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("valid_origin_pattern", "[settings]") {
  for (const char* good :
       {"*", "https://example.com", "http://localhost:8080", "https://*.example.com",
        "http://*:3000", "http://localhost:*", "https://*", "http://[::1]:8080",
        "chrome-extension://abcdef", "app+x.y-z://host", "HTTPS://EXAMPLE.COM"}) {
    INFO("pattern: " << good);
    REQUIRE(valid_origin_pattern(good));
  }
  for (const char* bad :
       {"", "**", "example.com", "*.example.com", "://example.com", "https://",
        "https://example.com/", "https://example.com/path", "https://exa mple.com", "ht tp://x",
        "*://x", "http*://x", "https://user@host", "https:/example.com", "https://host?q",
        "https://host#f", "https://ex_ample.com"}) {
    INFO("pattern: " << bad);
    REQUIRE_FALSE(valid_origin_pattern(bad));
  }
}

TEST_CASE("origin_allowed: an empty list allows every origin", "[settings]") {
  const std::vector<std::string> none;
  REQUIRE(origin_allowed(none, "https://example.com"));
  REQUIRE(origin_allowed(none, "null"));
  REQUIRE(origin_allowed(none, ""));
}

TEST_CASE("origin_allowed: exact patterns", "[settings]") {
  const std::vector<std::string> patterns{"https://example.com", "http://localhost:8080"};
  REQUIRE(origin_allowed(patterns, "https://example.com"));
  REQUIRE(origin_allowed(patterns, "http://localhost:8080"));
  REQUIRE_FALSE(origin_allowed(patterns, "http://example.com"));
  REQUIRE_FALSE(origin_allowed(patterns, "https://example.com:443"));
  REQUIRE_FALSE(origin_allowed(patterns, "https://example.com.evil.net"));
  REQUIRE_FALSE(origin_allowed(patterns, "https://sub.example.com"));
  REQUIRE_FALSE(origin_allowed(patterns, "http://localhost:8081"));
  REQUIRE_FALSE(origin_allowed(patterns, "http://localhost"));
  REQUIRE_FALSE(origin_allowed(patterns, "null"));
  REQUIRE_FALSE(origin_allowed(patterns, ""));
}

TEST_CASE("origin_allowed is case-insensitive", "[settings]") {
  REQUIRE(origin_allowed({"https://example.com"}, "HTTPS://EXAMPLE.COM"));
  REQUIRE(origin_allowed({"https://example.com"}, "https://Example.Com"));
  REQUIRE(origin_allowed({"HTTPS://*.EXAMPLE.COM"}, "https://app.example.com"));
  REQUIRE(origin_allowed({"https://*.Example.com"}, "https://APP.EXAMPLE.COM"));
}

TEST_CASE("origin_allowed: wildcards", "[settings]") {
  const std::vector<std::string> subdomains{"https://*.example.com"};
  REQUIRE(origin_allowed(subdomains, "https://app.example.com"));
  REQUIRE(origin_allowed(subdomains, "https://a.b.example.com"));
  REQUIRE_FALSE(origin_allowed(subdomains, "https://example.com"));
  REQUIRE_FALSE(origin_allowed(subdomains, "https://evilexample.com"));
  REQUIRE_FALSE(origin_allowed(subdomains, "https://app.example.com.evil.net"));
  REQUIRE_FALSE(origin_allowed(subdomains, "http://app.example.com"));
  REQUIRE_FALSE(origin_allowed(subdomains, "https://app.example.com:8443"));

  const std::vector<std::string> any_port{"http://localhost:*"};
  REQUIRE(origin_allowed(any_port, "http://localhost:3000"));
  REQUIRE(origin_allowed(any_port, "http://localhost:8080"));
  REQUIRE_FALSE(origin_allowed(any_port, "http://localhost"));
  REQUIRE_FALSE(origin_allowed(any_port, "http://localhost.evil.net"));

  const std::vector<std::string> middle{"https://*.cdn.*.example.com"};
  REQUIRE(origin_allowed(middle, "https://a.cdn.eu.example.com"));
  REQUIRE_FALSE(origin_allowed(middle, "https://a.cdn.example.com"));

  const std::vector<std::string> everything{"*"};
  REQUIRE(origin_allowed(everything, "https://anything.example"));
  REQUIRE(origin_allowed(everything, "null"));
  REQUIRE(origin_allowed(everything, ""));

  const std::vector<std::string> several{"https://one.example", "https://*.two.example"};
  REQUIRE(origin_allowed(several, "https://one.example"));
  REQUIRE(origin_allowed(several, "https://x.two.example"));
  REQUIRE_FALSE(origin_allowed(several, "https://three.example"));
}

TEST_CASE("origin_allowed: backtracking wildcards", "[settings]") {
  REQUIRE(origin_allowed({"https://*a*a*a"}, "https://aaa"));
  REQUIRE(origin_allowed({"https://*ab"}, "https://aaab"));
  REQUIRE_FALSE(origin_allowed({"https://*ab"}, "https://aaaba"));
  REQUIRE(origin_allowed({"https://**x"}, "https://x"));
  REQUIRE(origin_allowed({"https://x**"}, "https://x"));
  // Long input against many stars finishes quickly (no exponential backtracking).
  const std::string origin = "https://" + std::string(2000, 'a');
  REQUIRE_FALSE(origin_allowed({"https://*a*a*a*a*a*a*a*a*b"}, origin));
}

TEST_CASE("check_settings accepts a consistent configuration", "[settings]") {
  temp_dir dir;
  settings s;
  s.static_dir = dir.path().string();
  REQUIRE(check_settings(s).empty());

  s.client_queue_max_bytes = s.max_message_bytes;  // equal is fine
  s.idle_timeout = 1s;
  s.handshake_timeout = 100ms;
  s.ping_interval = 2s;
  s.pong_timeout = 1s;
  REQUIRE(check_settings(s).empty());
}

TEST_CASE("check_settings: dashboard = true needs dashboard-password", "[settings]") {
  temp_dir dir;
  settings s;
  s.static_dir = dir.path().string();
  REQUIRE_FALSE(apply_setting(s, "dashboard", "true"));
  const auto errors = check_settings(s);
  REQUIRE(errors.size() == 1);
  REQUIRE(errors[0].key == "dashboard-password");
  REQUIRE_FALSE(apply_setting(s, "dashboard-password", "pw"));
  REQUIRE(check_settings(s).empty());
  REQUIRE(apply_setting(s, "dashboard", "yes"));
}

TEST_CASE("check_settings: static dir must be a folder", "[settings]") {
  temp_dir dir;
  settings s;

  SECTION("missing") {
    s.static_dir = (dir.path() / "does-not-exist").string();
  }
  SECTION("a regular file") {
    const fs::path file = dir.path() / "file.txt";
    std::ofstream{file} << "x";
    s.static_dir = file.string();
  }
  SECTION("empty") {
    s.static_dir = "";
  }

  const auto errors = check_settings(s);
  REQUIRE(errors.size() == 1);
  REQUIRE(errors[0].key == "static-dir");
  REQUIRE(errors[0].message.find("'" + s.static_dir + "'") != std::string::npos);
  REQUIRE(errors[0].line().rfind("herald: config: static-dir: ", 0) == 0);
}

TEST_CASE("check_settings: queue must hold the largest message", "[settings]") {
  temp_dir dir;
  settings s;
  s.static_dir = dir.path().string();
  s.max_message_bytes = 4096;
  s.client_queue_max_bytes = 4095;
  const auto errors = check_settings(s);
  REQUIRE(errors.size() == 1);
  REQUIRE(errors[0].key == "client-queue-max-bytes");
  REQUIRE(errors[0].message == "must be at least max-message-bytes (4096)");
}

TEST_CASE("check_settings: timeouts have lower bounds", "[settings]") {
  temp_dir dir;
  settings s;
  s.static_dir = dir.path().string();
  s.idle_timeout = 999ms;
  s.handshake_timeout = 99ms;
  s.ping_interval = 0ms;
  s.pong_timeout = 500ms;
  const auto errors = check_settings(s);
  REQUIRE(errors.size() == 4);
  REQUIRE(has_error_for(errors, "idle-timeout"));
  REQUIRE(has_error_for(errors, "handshake-timeout"));
  REQUIRE(has_error_for(errors, "ping-interval"));
  REQUIRE(has_error_for(errors, "pong-timeout"));
}

TEST_CASE("check_settings reports every problem at once", "[settings]") {
  settings s;
  s.static_dir = "/nonexistent/herald/static/dir";
  s.max_message_bytes = 2048;
  s.client_queue_max_bytes = 1024;
  s.idle_timeout = 0ms;
  const auto errors = check_settings(s);
  REQUIRE(errors.size() == 3);
  REQUIRE(errors[0].key == "static-dir");
  REQUIRE(has_error_for(errors, "client-queue-max-bytes"));
  REQUIRE(has_error_for(errors, "idle-timeout"));
}

TEST_CASE("dump_settings of the defaults", "[settings]") {
  const std::string dump = dump_settings(settings{});
  REQUIRE(dump ==
          "; Herald effective configuration\n"
          "[global]\n"
          "port = 8000\n"
          "address = \"0.0.0.0\"\n"
          "static-dir = \"public\"\n"
          "tls-cert = \"\"\n"
          "tls-key = \"\"\n"
          "tls-port = 0\n"
          "workers = 0\n"
          "seed-channel = \"broadcast\"\n"
          "allowed-origins = []\n"
          "max-connections = 0\n"
          "max-connections-per-ip = 0\n"
          "connection-rate-per-ip = 0\n"
          "max-http-connections = 1024\n"
          "max-message-bytes = 65536\n"
          "client-queue-max-bytes = 1048576\n"
          "publish-backlog-bytes = 67108864\n"
          "compression = false\n"
          "compression-min-bytes = 512\n"
          "compression-level = 6\n"
          "token-hmac-secret = \"\"\n"
          "allow-anonymous = false\n"
          "client-channel-limit = 128\n"
          "api-key = \"\"\n"
          "api-max-body-bytes = 1048576\n"
          "dashboard = false\n"
          "dashboard-password = \"\"\n"
          "ping-interval = 25s\n"
          "pong-timeout = 8s\n"
          "idle-timeout = 60s\n"
          "handshake-timeout = 10s\n"
          "shutdown-timeout = 10s\n"
          "history-meta-ttl = 86400s\n"
          "history-max-channels = 100000\n"
          "engine = \"memory\"\n"
          "redis-address = [\"127.0.0.1:6379\"]\n"
          "redis-user = \"\"\n"
          "redis-password = \"\"\n"
          "redis-db = 0\n"
          "redis-prefix = \"herald\"\n"
          "redis-connect-timeout = 1s\n"
          "redis-io-timeout = 4s\n"
          "node-name = \"\"\n"
          "presence-ttl = 60s\n"
          "log-level = \"info\"\n"
          "log-format = \"text\"\n"
          "history-size = 0\n"
          "history-ttl = 0s\n"
          "presence = false\n"
          "join-leave = false\n"
          "force-push-join-leave = false\n"
          "force-recovery = false\n"
          "allow-recovery = false\n"
          "force-positioning = false\n"
          "allow-positioning = false\n"
          "allow-subscribe-for-client = false\n"
          "allow-subscribe-for-anonymous = false\n"
          "allow-publish-for-subscriber = false\n"
          "allow-publish-for-client = false\n"
          "allow-publish-for-anonymous = false\n"
          "allow-presence-for-subscriber = false\n"
          "allow-presence-for-client = false\n"
          "allow-presence-for-anonymous = false\n"
          "allow-history-for-subscriber = false\n"
          "allow-history-for-client = false\n"
          "allow-history-for-anonymous = false\n"
          "allow-user-limited-channels = false\n");
}

TEST_CASE("dump_settings quotes strings and lists", "[settings]") {
  settings s;
  s.static_dir = "C:\\web \"root\"";
  s.allowed_origins = {"https://a.example", "http://*.b.example:8080"};
  s.pong_timeout = 1500ms;
  const std::string dump = dump_settings(s);
  REQUIRE(dump.find("static-dir = \"C:\\\\web \\\"root\\\"\"\n") != std::string::npos);
  REQUIRE(dump.find("allowed-origins = [\"https://a.example\", \"http://*.b.example:8080\"]\n") !=
          std::string::npos);
  REQUIRE(dump.find("pong-timeout = 1500ms\n") != std::string::npos);
}

TEST_CASE("dump_settings output can be re-applied", "[settings]") {
  settings original;
  original.port = 9123;
  original.address = "::1";
  original.static_dir = "/srv/dir with \"quotes\", commas and \\backslashes\\";
  original.workers = 3;
  original.seed_channel = "room \"one\", two";
  original.allowed_origins = {"https://a.example", "http://*.b.example:8080", "*"};
  original.max_connections = 4294967295u;
  original.max_message_bytes = 16;
  original.client_queue_max_bytes = 1073741824;
  original.ping_interval = 1500ms;
  original.pong_timeout = 3min;
  original.idle_timeout = 2h;
  original.handshake_timeout = 0ms;
  original.shutdown_timeout = 1ms;
  original.history_meta_ttl = 90min;
  original.client_channel_limit = 7;
  original.api_key = "s3cret key";
  original.engine = "redis";
  original.redis_address = {"redis-a.internal:6379", "10.0.0.7:6380", "[::1]:7000"};
  original.redis_user = "herald \"user\"";
  original.redis_password = "p@ss, \\word";
  original.redis_db = 65535;
  original.redis_prefix = "prod:eu-1.herald_";
  original.redis_connect_timeout = 1ms;
  original.redis_io_timeout = 2500ms;
  original.node_name = "node \"one\", a";

  const auto values = parse_dump(dump_settings(original));
  REQUIRE(values.size() == option_table().size());

  settings restored;
  const auto errors = apply_settings(restored, values);
  for (const auto& error : errors) {
    FAIL_CHECK(error.line());
  }
  REQUIRE(errors.empty());
  require_same(restored, original);
  REQUIRE(dump_settings(restored) == dump_settings(original));

  // The defaults round-trip too.
  settings defaults_restored;
  defaults_restored.port = 1;
  REQUIRE(apply_settings(defaults_restored, parse_dump(dump_settings(settings{}))).empty());
  require_same(defaults_restored, settings{});
}

TEST_CASE("options_help lists every key with its default", "[settings]") {
  const std::string help = options_help();
  for (const auto& option : option_table()) {
    INFO("key: " << option.name);
    REQUIRE(help.find("  --" + std::string{option.name} + "=VALUE\n") != std::string::npos);
    REQUIRE(help.find(std::string{option.help}) != std::string::npos);
  }
  REQUIRE(help.find("(default 8000)") != std::string::npos);
  REQUIRE(help.find("(default \"broadcast\")") != std::string::npos);
  REQUIRE(help.find("(default 25s)") != std::string::npos);
}

TEST_CASE("key_from_environment_name", "[settings]") {
  REQUIRE(key_from_environment_name("HERALD_STATIC_DIR") ==
          std::optional<std::string>{"static-dir"});
  REQUIRE(key_from_environment_name("HERALD_PORT") == std::optional<std::string>{"port"});
  REQUIRE(key_from_environment_name("HERALD_CLIENT_QUEUE_MAX_BYTES") ==
          std::optional<std::string>{"client-queue-max-bytes"});
  REQUIRE(key_from_environment_name("HERALD_CONFIG_FILE") ==
          std::optional<std::string>{"config-file"});
  REQUIRE(key_from_environment_name("HERALD_Max_Connections") ==
          std::optional<std::string>{"max-connections"});
  REQUIRE(key_from_environment_name("HERALD_X") == std::optional<std::string>{"x"});
  REQUIRE(key_from_environment_name("HERALD_ENGINE") == std::optional<std::string>{"engine"});
  REQUIRE(key_from_environment_name("HERALD_REDIS_ADDRESS") ==
          std::optional<std::string>{"redis-address"});
  REQUIRE(key_from_environment_name("HERALD_REDIS_CONNECT_TIMEOUT") ==
          std::optional<std::string>{"redis-connect-timeout"});
  REQUIRE(key_from_environment_name("HERALD_NODE_NAME") == std::optional<std::string>{"node-name"});
  for (const char* other : {"", "HERALD", "HERALD_", "herald_port", "Herald_PORT", "PATH",
                            "XHERALD_PORT", "HERALDPORT", " HERALD_PORT"}) {
    INFO("name: '" << other << "'");
    REQUIRE_FALSE(key_from_environment_name(other).has_value());
  }
}

TEST_CASE("parse_command_line: --key=value and --key value", "[settings]") {
  const auto cl = parse_command_line(
      {"--port=9000", "--static-dir", "/srv/www", "--allowed-origins=a=b", "--port", "9001"});
  REQUIRE(cl.errors.empty());
  REQUIRE(cl.overrides == key_values{{"port", "9000"},
                                     {"static-dir", "/srv/www"},
                                     {"allowed-origins", "a=b"},
                                     {"port", "9001"}});
  REQUIRE_FALSE(cl.help);
  REQUIRE_FALSE(cl.version);
  REQUIRE_FALSE(cl.dump_config);
  REQUIRE_FALSE(cl.check_config);
  REQUIRE_FALSE(cl.config_file.has_value());
}

TEST_CASE("parse_command_line: empty values and values with spaces", "[settings]") {
  const auto cl = parse_command_line(
      {"--allowed-origins=", "--static-dir", "dir with space", "--seed-channel", ""});
  REQUIRE(cl.errors.empty());
  REQUIRE(cl.overrides == key_values{{"allowed-origins", ""},
                                     {"static-dir", "dir with space"},
                                     {"seed-channel", ""}});
}

TEST_CASE("parse_command_line: no arguments", "[settings]") {
  const command_line cl = parse_command_line({});
  REQUIRE(cl.errors.empty());
  REQUIRE(cl.overrides.empty());
  REQUIRE_FALSE(cl.help);
  REQUIRE_FALSE(cl.config_file.has_value());
}

TEST_CASE("parse_command_line: flags", "[settings]") {
  REQUIRE(parse_command_line({"--help"}).help);
  REQUIRE(parse_command_line({"-h"}).help);
  REQUIRE(parse_command_line({"--version"}).version);
  REQUIRE(parse_command_line({"--dump-config"}).dump_config);
  REQUIRE(parse_command_line({"--check-config"}).check_config);

  const auto cl =
      parse_command_line({"--check-config", "--port=1", "--dump-config", "--version", "-h"});
  REQUIRE(cl.help);
  REQUIRE(cl.version);
  REQUIRE(cl.dump_config);
  REQUIRE(cl.check_config);
  REQUIRE(cl.errors.empty());
  REQUIRE(cl.overrides == key_values{{"port", "1"}});
}

TEST_CASE("parse_command_line: --config-file", "[settings]") {
  auto cl = parse_command_line({"--config-file=/etc/herald.ini"});
  REQUIRE(cl.config_file == std::optional<std::string>{"/etc/herald.ini"});
  REQUIRE(cl.overrides.empty());
  REQUIRE(cl.errors.empty());

  cl = parse_command_line({"--config-file", "a.ini", "--port=5", "--config-file", "b.ini"});
  REQUIRE(cl.config_file == std::optional<std::string>{"b.ini"});  // the last one wins
  REQUIRE(cl.overrides == key_values{{"port", "5"}});
  REQUIRE(cl.errors.empty());
}

TEST_CASE("parse_command_line: stray arguments are errors", "[settings]") {
  const auto cl = parse_command_line({"serve", "--port=1", "-p", "--", "-", "-help"});
  REQUIRE(cl.overrides == key_values{{"port", "1"}});
  REQUIRE(cl.errors.size() == 5);
  const std::vector<std::string> expected{"serve", "-p", "--", "-", "-help"};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(cl.errors[i].key == expected[i]);
    REQUIRE(cl.errors[i].message == "unexpected argument (flags look like --key=value)");
  }
}

TEST_CASE("parse_command_line: a missing value is an error", "[settings]") {
  auto cl = parse_command_line({"--port=1", "--static-dir"});
  REQUIRE(cl.overrides == key_values{{"port", "1"}});
  REQUIRE(cl.errors.size() == 1);
  REQUIRE(cl.errors[0].key == "static-dir");
  REQUIRE(cl.errors[0].message == "missing value");
  REQUIRE(cl.errors[0].line() == "herald: config: static-dir: missing value");

  cl = parse_command_line({"--config-file"});
  REQUIRE(cl.errors.size() == 1);
  REQUIRE(cl.errors[0].key == "config-file");
  REQUIRE_FALSE(cl.config_file.has_value());
}

TEST_CASE("read_environment picks HERALD_ variables", "[settings]") {
  const char* const envp[] = {
      "PATH=/usr/bin:/bin",
      "HERALD_PORT=9000",
      "HOME=/root",
      "HERALD_STATIC_DIR=/srv/www",
      "HERALD_ALLOWED_ORIGINS=https://a.example,https://b.example",
      "HERALD_CONFIG_FILE=/etc/herald.ini",
      "HERALD_SEED_CHANNEL=a=b",
      "HERALD_MAX_CONNECTIONS=",
      "HERALD_NO_EQUALS_SIGN",
      "HERALD_=ignored",
      "herald_port=1",
      "XHERALD_PORT=2",
      nullptr,
  };
  const auto env = read_environment(envp);
  REQUIRE(env.config_file == std::optional<std::string>{"/etc/herald.ini"});
  REQUIRE(env.overrides == key_values{{"port", "9000"},
                                      {"static-dir", "/srv/www"},
                                      {"allowed-origins", "https://a.example,https://b.example"},
                                      {"seed-channel", "a=b"},
                                      {"max-connections", ""}});
}

TEST_CASE("read_environment with nothing relevant", "[settings]") {
  const char* const only_null[] = {nullptr};
  auto env = read_environment(only_null);
  REQUIRE(env.overrides.empty());
  REQUIRE_FALSE(env.config_file.has_value());

  env = read_environment(nullptr);
  REQUIRE(env.overrides.empty());
  REQUIRE_FALSE(env.config_file.has_value());

  const char* const unrelated[] = {"PATH=/bin", "TERM=xterm", nullptr};
  env = read_environment(unrelated);
  REQUIRE(env.overrides.empty());
  REQUIRE_FALSE(env.config_file.has_value());
}

TEST_CASE("read_environment overrides apply to settings", "[settings]") {
  const char* const envp[] = {"HERALD_PORT=7000", "HERALD_PING_INTERVAL=5s",
                              "HERALD_ALLOWED_ORIGINS=https://a.example, https://*.b.example",
                              nullptr};
  settings s;
  REQUIRE(apply_settings(s, read_environment(envp).overrides).empty());
  REQUIRE(s.port == 7000);
  REQUIRE(s.ping_interval == 5s);
  REQUIRE(s.allowed_origins ==
          std::vector<std::string>{"https://a.example", "https://*.b.example"});
}

TEST_CASE("apply_settings applies in order and collects every error", "[settings]") {
  settings s;
  const key_values values{
      {"port", "9000"},         {"port", "70000"},         // bad: port stays 9000
      {"workers", "2"},         {"no-such-key", "1"},      // bad
      {"address", "localhost"},                            // bad
      {"ping-interval", "3s"},  {"idle-timeout", "soon"},  // bad
      {"workers", "5"},                                    // later values win
  };
  const auto errors = apply_settings(s, values);
  REQUIRE(errors.size() == 4);
  REQUIRE(errors[0].key == "port");
  REQUIRE(errors[1].key == "no-such-key");
  REQUIRE(errors[1].message == "unknown key");
  REQUIRE(errors[2].key == "address");
  REQUIRE(errors[3].key == "idle-timeout");

  REQUIRE(s.port == 9000);
  REQUIRE(s.workers == 5);
  REQUIRE(s.address == "0.0.0.0");
  REQUIRE(s.ping_interval == 3s);
  REQUIRE(s.idle_timeout == 60s);

  REQUIRE(apply_settings(s, {}).empty());
}

TEST_CASE("command line overrides flow into settings", "[settings]") {
  const auto cl = parse_command_line({"--port", "8443", "--workers=8", "--shutdown-timeout=30s"});
  REQUIRE(cl.errors.empty());
  settings s;
  REQUIRE(apply_settings(s, cl.overrides).empty());
  REQUIRE(s.port == 8443);
  REQUIRE(s.workers == 8);
  REQUIRE(s.shutdown_timeout == 30s);
}

TEST_CASE("split_comma_list trims items and drops empty ones", "[text]") {
  using herald::core::split_comma_list;
  CHECK(split_comma_list("").empty());
  CHECK(split_comma_list(" , ,").empty());
  CHECK(split_comma_list("a") == std::vector<std::string_view>{"a"});
  CHECK(split_comma_list(" a ,\tb,,c ") == std::vector<std::string_view>{"a", "b", "c"});
  CHECK(split_comma_list("W/\"x\", \"y\"") == std::vector<std::string_view>{"W/\"x\"", "\"y\""});
}

TEST_CASE("effective_workers resolves 0 to one per core", "[settings]") {
  herald::core::settings s;
  s.workers = 3;
  CHECK(herald::core::effective_workers(s) == 3);
  s.workers = 0;
  CHECK(herald::core::effective_workers(s) == std::max(1u, std::thread::hardware_concurrency()));
}

TEST_CASE("allow-anonymous takes true or false only", "[settings]") {
  herald::core::settings s;
  REQUIRE_FALSE(s.allow_anonymous);
  REQUIRE_FALSE(herald::core::apply_setting(s, "allow-anonymous", "true"));
  REQUIRE(s.allow_anonymous);
  REQUIRE_FALSE(herald::core::apply_setting(s, "allow-anonymous", "false"));
  REQUIRE_FALSE(s.allow_anonymous);
  for (const char* bad : {"yes", "1", "", "TRUE"}) {
    const auto error = herald::core::apply_setting(s, "allow-anonymous", bad);
    REQUIRE(error);
    REQUIRE(error->key == "allow-anonymous");
  }
}

TEST_CASE("token-hmac-secret is any string, empty by default", "[settings]") {
  herald::core::settings s;
  REQUIRE(s.token_hmac_secret.empty());
  REQUIRE_FALSE(herald::core::apply_setting(s, "token-hmac-secret", "s3cr\"et"));
  REQUIRE(s.token_hmac_secret == "s3cr\"et");
}

// --- channel options: defaults and namespaces ---------------------------------

namespace {

// Applies `values` and requires that every one is accepted.
void apply_all_ok(settings& s, const key_values& values) {
  const auto errors = apply_settings(s, values);
  for (const auto& error : errors) {
    FAIL_CHECK(error.line());
  }
  REQUIRE(errors.empty());
}

// Applies one setting, requires an error for `error_key` (the key itself,
// or the namespace it names) and an unchanged `s`. Returns the message.
std::string set_bad_as(settings& s, std::string_view key, std::string_view text,
                       std::string_view error_key) {
  INFO("key: " << key << ", text: '" << text << "'");
  const std::string before = dump_settings(s);
  const auto keys_before = s.namespace_keys;
  const auto error = apply_setting(s, key, text);
  REQUIRE(error.has_value());
  REQUIRE(error->key == error_key);
  REQUIRE_FALSE(error->message.empty());
  REQUIRE(dump_settings(s) == before);
  REQUIRE(s.namespace_keys == keys_before);
  return error->message;
}

std::vector<std::string> error_keys(const std::vector<config_error>& errors) {
  std::vector<std::string> keys;
  for (const auto& error : errors) {
    keys.push_back(error.key);
  }
  return keys;
}

// check_settings of `s` without the static-dir complaint (the tests run
// wherever the build put them).
std::vector<config_error> channel_errors(settings s) {
  temp_dir dir;
  s.static_dir = dir.path().string();
  return check_settings(s);
}

}  // namespace

TEST_CASE("channel defaults are Centrifugo's: everything off", "[settings]") {
  const channel_options o = default_channel_options();
  // A client subscribes with a channel token, or where a namespace allows
  // it; nothing else is allowed until configured.
  REQUIRE_FALSE(o.allow_subscribe_for_client);
  REQUIRE_FALSE(o.allow_subscribe_for_anonymous);
  REQUIRE_FALSE(o.allow_publish_for_subscriber);
  REQUIRE_FALSE(o.allow_publish_for_client);
  REQUIRE_FALSE(o.allow_publish_for_anonymous);
  REQUIRE_FALSE(o.allow_presence_for_subscriber);
  REQUIRE_FALSE(o.allow_presence_for_client);
  REQUIRE_FALSE(o.allow_presence_for_anonymous);
  REQUIRE_FALSE(o.allow_history_for_subscriber);
  REQUIRE_FALSE(o.allow_history_for_client);
  REQUIRE_FALSE(o.allow_history_for_anonymous);
  REQUIRE_FALSE(o.allow_recovery);
  REQUIRE_FALSE(o.allow_positioning);
  REQUIRE_FALSE(o.allow_user_limited_channels);
  REQUIRE(o.history_size == 0);
  REQUIRE(o.history_ttl == 0s);
  REQUIRE_FALSE(o.history_enabled());
  REQUIRE_FALSE(o.presence);
  REQUIRE_FALSE(o.join_leave);
  REQUIRE_FALSE(o.force_push_join_leave);
  REQUIRE_FALSE(o.force_recovery);
  REQUIRE_FALSE(o.force_positioning);
}

TEST_CASE("apply_setting: top-level channel options set the defaults", "[settings]") {
  settings s;
  set_ok(s, "history-size", "100");
  set_ok(s, "history-ttl", "5min");
  set_ok(s, "presence", "true");
  set_ok(s, "join-leave", "true");
  set_ok(s, "force-push-join-leave", "true");
  set_ok(s, "force-recovery", "true");
  set_ok(s, "allow-recovery", "false");
  set_ok(s, "force-positioning", "true");
  set_ok(s, "allow-positioning", "true");
  set_ok(s, "allow-subscribe-for-client", "false");
  set_ok(s, "allow-subscribe-for-anonymous", "false");
  set_ok(s, "allow-publish-for-subscriber", "false");
  set_ok(s, "allow-publish-for-client", "true");
  set_ok(s, "allow-publish-for-anonymous", "false");
  set_ok(s, "allow-presence-for-subscriber", "false");
  set_ok(s, "allow-presence-for-client", "true");
  set_ok(s, "allow-presence-for-anonymous", "false");
  set_ok(s, "allow-history-for-subscriber", "false");
  set_ok(s, "allow-history-for-client", "true");
  set_ok(s, "allow-history-for-anonymous", "false");
  set_ok(s, "allow-user-limited-channels", "true");
  const channel_options& o = s.namespaces.defaults();
  REQUIRE(o.history_size == 100);
  REQUIRE(o.history_ttl == 300s);
  REQUIRE(o.presence);
  REQUIRE(o.join_leave);
  REQUIRE(o.force_push_join_leave);
  REQUIRE(o.force_recovery);
  REQUIRE_FALSE(o.allow_recovery);
  REQUIRE(o.force_positioning);
  REQUIRE(o.allow_positioning);
  REQUIRE_FALSE(o.allow_subscribe_for_client);
  REQUIRE_FALSE(o.allow_subscribe_for_anonymous);
  REQUIRE_FALSE(o.allow_publish_for_subscriber);
  REQUIRE(o.allow_publish_for_client);
  REQUIRE_FALSE(o.allow_publish_for_anonymous);
  REQUIRE_FALSE(o.allow_presence_for_subscriber);
  REQUIRE(o.allow_presence_for_client);
  REQUIRE_FALSE(o.allow_presence_for_anonymous);
  REQUIRE_FALSE(o.allow_history_for_subscriber);
  REQUIRE(o.allow_history_for_client);
  REQUIRE_FALSE(o.allow_history_for_anonymous);
  REQUIRE(o.allow_user_limited_channels);
  REQUIRE(channel_errors(s).empty());

  set_ok(s, "history-ttl", "1h");
  REQUIRE(s.namespaces.defaults().history_ttl == 3600s);
  set_ok(s, "history-ttl", "0s");
  set_ok(s, "history-size", "0");
  REQUIRE_FALSE(s.namespaces.defaults().history_enabled());
  set_ok(s, "history-size", "4294967295");
}

TEST_CASE("apply_setting: bad channel option values", "[settings]") {
  settings s;
  for (const char* bad : {"-1", "ten", "", "1.5", "4294967296"}) {
    set_bad(s, "history-size", bad);
  }
  for (const char* bad : {"soon", "", "-1s", "1500ms", "100us", "1.5s"}) {
    set_bad(s, "history-ttl", bad);
  }
  for (const char* bad : {"1", "yes", "", "TRUE"}) {
    set_bad(s, "presence", bad);
    set_bad(s, "allow-publish-for-client", bad);
  }
  REQUIRE(set_bad(s, "history-ttl", "1500ms").find("whole number of seconds") != std::string::npos);
}

TEST_CASE("valid_namespace_name", "[settings]") {
  for (const char* good : {"chat", "ab", "a-b", "a_b", "_x", "9z", "Chat_Room-2", "0-"}) {
    INFO("name: " << good);
    REQUIRE(valid_namespace_name(good));
  }
  // Centrifugo: ^[-a-zA-Z0-9_.]{2,}$; Herald leaves out '.' and a leading '-',
  // which CAF's [section] names cannot spell.
  for (const char* bad : {"", "c", "-x", "a.b", "a b", "a:b", "a/b", "ä", "$chat", "chat#"}) {
    INFO("name: " << bad);
    REQUIRE_FALSE(valid_namespace_name(bad));
  }
}

TEST_CASE("apply_setting: a namespace starts from the defaults and overrides them", "[settings]") {
  settings s;
  set_ok(s, "presence", "true");
  set_ok(s, "namespaces.chat.history-size", "10");
  set_ok(s, "namespaces.chat.history-ttl", "300s");
  set_ok(s, "namespaces.chat.allow-publish-for-client", "true");
  set_ok(s, "namespaces.news.presence", "false");

  REQUIRE(s.namespaces.namespace_count() == 2);
  const channel_options* chat = s.namespaces.options_for("chat:room");
  REQUIRE(chat != nullptr);
  REQUIRE(chat->history_size == 10);
  REQUIRE(chat->history_ttl == 300s);
  REQUIRE(chat->history_enabled());
  REQUIRE(chat->allow_publish_for_client);
  REQUIRE(chat->presence);                          // from the top level
  REQUIRE_FALSE(chat->allow_subscribe_for_client);  // the default: off
  REQUIRE_FALSE(chat->allow_recovery);              // the default: off
  const channel_options* news = s.namespaces.options_for("news:today");
  REQUIRE(news != nullptr);
  REQUIRE_FALSE(news->presence);
  REQUIRE_FALSE(news->history_enabled());
  // The defaults are untouched by the namespaces.
  REQUIRE(s.namespaces.defaults().presence);
  REQUIRE(s.namespaces.defaults().history_size == 0);
  REQUIRE_FALSE(s.namespaces.defaults().allow_publish_for_client);
  REQUIRE(s.namespaces.options_for("other:x") == nullptr);

  REQUIRE(s.namespace_keys.at("chat") ==
          std::set<std::string>{"history-size", "history-ttl", "allow-publish-for-client"});
  REQUIRE(s.namespace_keys.at("news") == std::set<std::string>{"presence"});
  REQUIRE(channel_errors(s).empty());
}

TEST_CASE("apply_setting: defaults set later reach the namespaces that do not override them",
          "[settings]") {
  // A config file flattens to sorted keys, so "namespaces.*" comes before
  // "presence"; and flags and the environment come after the file.
  settings s;
  apply_all_ok(s, {{"namespaces.chat.presence", "false"},
                   {"namespaces.chat.history-size", "5"},
                   {"namespaces.chat.history-ttl", "1min"},
                   {"namespaces.feed", "{}"},
                   {"presence", "true"},
                   {"join-leave", "true"},
                   {"history-size", "100"},
                   {"history-ttl", "1h"}});
  const channel_options* chat = s.namespaces.find_namespace("chat");
  const channel_options* feed = s.namespaces.find_namespace("feed");
  REQUIRE(chat != nullptr);
  REQUIRE(feed != nullptr);
  REQUIRE_FALSE(chat->presence);  // its own
  REQUIRE(chat->join_leave);      // inherited, set after it
  REQUIRE(chat->history_size == 5);
  REQUIRE(chat->history_ttl == 60s);
  REQUIRE(feed->presence);
  REQUIRE(feed->join_leave);
  REQUIRE(feed->history_size == 100);
  REQUIRE(feed->history_ttl == 3600s);

  // A namespace's own key wins whatever comes later at the top level.
  set_ok(s, "presence", "false");
  set_ok(s, "namespaces.chat.presence", "true");
  set_ok(s, "presence", "false");
  REQUIRE(s.namespaces.find_namespace("chat")->presence);
  REQUIRE_FALSE(s.namespaces.find_namespace("feed")->presence);

  // A namespace added to `namespaces` directly is complete in itself.
  channel_options fixed;
  s.namespaces.set_namespace("fixed", fixed);
  set_ok(s, "presence", "true");
  REQUIRE_FALSE(s.namespaces.find_namespace("fixed")->presence);
}

TEST_CASE("apply_setting: an empty namespace section adds the namespace with the defaults",
          "[settings]") {
  settings s;
  set_ok(s, "namespaces.chat", "{}");
  REQUIRE(s.namespaces.has_namespace("chat"));
  require_same_options(*s.namespaces.find_namespace("chat"), default_channel_options());
  REQUIRE(s.namespace_keys.at("chat").empty());
  // An empty [namespaces] section, or one for a namespace that exists, changes nothing.
  set_ok(s, "namespaces.chat.presence", "true");
  set_ok(s, "namespaces.chat", "{}");
  REQUIRE(s.namespaces.find_namespace("chat")->presence);
  set_ok(s, "namespaces", "{}");
  REQUIRE(s.namespaces.namespace_count() == 1);
}

TEST_CASE("apply_setting: namespace errors name the key", "[settings]") {
  settings s;
  set_ok(s, "namespaces.chat.presence", "true");

  CHECK(set_bad_as(s, "namespaces.chat.no-such-option", "1", "namespaces.chat.no-such-option")
            .find("unknown channel option") != std::string::npos);
  // Keys of the process are not channel options.
  CHECK(set_bad_as(s, "namespaces.chat.port", "1", "namespaces.chat.port")
            .find("not a channel option") != std::string::npos);
  CHECK(set_bad_as(s, "namespaces.chat.port", "{}", "namespaces.chat.port")
            .find("bad namespace name") != std::string::npos);
  // Wrong types.
  set_bad_as(s, "namespaces.chat.presence", "1", "namespaces.chat.presence");
  set_bad_as(s, "namespaces.chat.history-size", "\"ten\"", "namespaces.chat.history-size");
  set_bad_as(s, "namespaces.chat.history-ttl", "1500ms", "namespaces.chat.history-ttl");
  set_bad_as(s, "namespaces.new.history-size", "-1", "namespaces.new.history-size");
  REQUIRE_FALSE(s.namespaces.has_namespace("new"));  // not added on an error
  // Bad namespace names name the namespace.
  for (const char* bad : {"c", "-x", "a.b", "a b"}) {
    const std::string name{bad};
    CHECK(set_bad_as(s, "namespaces." + name + ".presence", "true", "namespaces." + name)
              .find("bad namespace name") != std::string::npos);
  }
  set_bad_as(s, "namespaces..presence", "true", "namespaces.");
  // A namespace without an option, other than an empty section.
  set_bad_as(s, "namespaces.chat", "5", "namespaces.chat");
  set_bad_as(s, "namespaces.feed", "true", "namespaces.feed");
  set_bad_as(s, "namespaces", "1", "namespaces");
  REQUIRE(s.namespaces.namespace_count() == 1);
}

TEST_CASE("check_settings: history needs both history-size and history-ttl", "[settings]") {
  SECTION("defaults") {
    settings s;
    set_ok(s, "history-size", "10");
    auto errors = channel_errors(s);
    REQUIRE(error_keys(errors) == std::vector<std::string>{"history-ttl"});
    REQUIRE(errors[0].message.find("history needs both history-size and history-ttl") !=
            std::string::npos);
    set_ok(s, "history-size", "0");
    set_ok(s, "history-ttl", "30s");
    errors = channel_errors(s);
    REQUIRE(error_keys(errors) == std::vector<std::string>{"history-size"});
    set_ok(s, "history-size", "1");
    REQUIRE(channel_errors(s).empty());
  }
  SECTION("a namespace") {
    settings s;
    set_ok(s, "namespaces.chat.history-size", "10");
    auto errors = channel_errors(s);
    REQUIRE(error_keys(errors) == std::vector<std::string>{"namespaces.chat.history-ttl"});
    set_ok(s, "namespaces.chat.history-ttl", "10s");
    REQUIRE(channel_errors(s).empty());
  }
  SECTION("a namespace that turns off half of the inherited history") {
    settings s;
    apply_all_ok(
        s, {{"history-size", "10"}, {"history-ttl", "60s"}, {"namespaces.chat.history-size", "0"}});
    auto errors = channel_errors(s);
    REQUIRE(error_keys(errors) == std::vector<std::string>{"namespaces.chat.history-size"});
    REQUIRE(errors[0].message.find("inherited") != std::string::npos);
    set_ok(s, "namespaces.chat.history-ttl", "0s");
    REQUIRE(channel_errors(s).empty());
    REQUIRE_FALSE(s.namespaces.find_namespace("chat")->history_enabled());
  }
  SECTION("a bad default is reported once, not again for every namespace") {
    settings s;
    apply_all_ok(
        s,
        {{"history-size", "10"}, {"namespaces.chat.presence", "true"}, {"namespaces.feed", "{}"}});
    REQUIRE(error_keys(channel_errors(s)) == std::vector<std::string>{"history-ttl"});
  }
}

TEST_CASE("check_settings: forced recovery and positioning need history", "[settings]") {
  settings s;
  set_ok(s, "force-recovery", "true");
  set_ok(s, "force-positioning", "true");
  REQUIRE(error_keys(channel_errors(s)) ==
          std::vector<std::string>{"force-recovery", "force-positioning"});
  set_ok(s, "history-size", "10");
  set_ok(s, "history-ttl", "10s");
  REQUIRE(channel_errors(s).empty());

  // A namespace without history but with the inherited force-recovery.
  apply_all_ok(s, {{"namespaces.chat.history-size", "0"},
                   {"namespaces.chat.history-ttl", "0s"},
                   {"namespaces.chat.force-positioning", "false"}});
  const auto errors = channel_errors(s);
  REQUIRE(error_keys(errors) == std::vector<std::string>{"namespaces.chat.force-recovery"});
  REQUIRE(errors[0].message.find("recovery needs history") != std::string::npos);

  // allow-recovery (on by default) and allow-positioning need no history.
  settings plain;
  set_ok(plain, "allow-positioning", "true");
  set_ok(plain, "namespaces.chat.allow-recovery", "true");
  REQUIRE(channel_errors(plain).empty());
}

TEST_CASE("dump_settings lists every namespace and reads back", "[settings]") {
  settings original;
  apply_all_ok(original, {{"presence", "true"},
                          {"history-size", "50"},
                          {"history-ttl", "2min"},
                          {"namespaces.chat.history-size", "10"},
                          {"namespaces.chat.allow-publish-for-client", "true"},
                          {"namespaces.quiet", "{}"},
                          {"namespaces.quiet.presence", "false"},
                          {"namespaces.a_b-c", "{}"}});
  const std::string dump = dump_settings(original);
  REQUIRE(dump.find("\n[namespaces.chat]\nhistory-size = 10\nhistory-ttl = 120s\n"
                    "presence = true\n") != std::string::npos);
  REQUIRE(dump.find("\n[namespaces.quiet]\nhistory-size = 50\n") != std::string::npos);
  REQUIRE(dump.find("\n[namespaces.a_b-c]\n") != std::string::npos);
  // The [global] section comes first and holds every key once.
  REQUIRE(dump.find("[namespaces.") > dump.find("allow-user-limited-channels = false\n"));

  const auto values = parse_dump(dump);
  REQUIRE(values.size() == option_table().size() + 3 * 21);
  settings restored;
  apply_all_ok(restored, values);
  require_same(restored, original);
  REQUIRE(dump_settings(restored) == dump);
  REQUIRE(channel_errors(restored).empty());
}

TEST_CASE("options_help lists the channel options and namespaces", "[settings]") {
  const std::string help = options_help();
  REQUIRE(help.find("  --history-size=VALUE\n") != std::string::npos);
  REQUIRE(help.find("  --allow-user-limited-channels=VALUE\n") != std::string::npos);
  REQUIRE(help.find("[namespaces.NAME]") != std::string::npos);
  REQUIRE(help.find("--namespaces.NAME.KEY=VALUE") != std::string::npos);
  REQUIRE(help.find("(default 0s)") != std::string::npos);
  // The channel options come after the process keys.
  REQUIRE(help.find("--history-size=") > help.find("--shutdown-timeout="));
}

TEST_CASE("channel options from the command line and the environment", "[settings]") {
  const auto cl = parse_command_line(
      {"--history-size=10", "--history-ttl", "30s", "--namespaces.chat.presence=true",
       "--namespaces.chat.history-size=0", "--namespaces.chat.history-ttl=0s"});
  REQUIRE(cl.errors.empty());
  const char* const envp[] = {"HERALD_HISTORY_SIZE=20", "HERALD_ALLOW_PUBLISH_FOR_CLIENT=true",
                              nullptr};
  const auto env = read_environment(envp);
  REQUIRE(env.overrides ==
          key_values{{"history-size", "20"}, {"allow-publish-for-client", "true"}});
  settings s;
  apply_all_ok(s, env.overrides);
  apply_all_ok(s, cl.overrides);
  REQUIRE(s.namespaces.defaults().history_size == 10);  // the flag wins
  REQUIRE(s.namespaces.defaults().history_ttl == 30s);
  REQUIRE(s.namespaces.defaults().allow_publish_for_client);
  const channel_options* chat = s.namespaces.find_namespace("chat");
  REQUIRE(chat != nullptr);
  REQUIRE(chat->presence);
  REQUIRE_FALSE(chat->history_enabled());
  REQUIRE(chat->allow_publish_for_client);
  REQUIRE(channel_errors(s).empty());
}

TEST_CASE("check_settings wants pong-timeout below ping-interval", "[settings]") {
  herald::core::settings s;
  s.static_dir = ".";
  s.ping_interval = std::chrono::seconds{5};
  s.pong_timeout = std::chrono::seconds{5};
  const auto errors = herald::core::check_settings(s);
  REQUIRE(std::any_of(errors.begin(), errors.end(),
                      [](const auto& error) { return error.key == "pong-timeout"; }));
  s.pong_timeout = std::chrono::seconds{4};
  for (const auto& error : herald::core::check_settings(s)) {
    REQUIRE(error.key != "pong-timeout");
  }
}

// --- the engine and its Redis settings -----------------------------------------

TEST_CASE("apply_setting: engine is memory or redis", "[settings]") {
  settings s;
  REQUIRE(s.engine == "memory");
  set_ok(s, "engine", "redis");
  REQUIRE(s.engine == "redis");
  set_ok(s, "engine", "memory");
  REQUIRE(s.engine == "memory");
  REQUIRE(set_bad(s, "engine", "mongo") == "expected memory or redis, got 'mongo'");
  for (const char* bad : {"", "Redis", "MEMORY", " redis", "redis ", "redis,memory", "mem"}) {
    set_bad(s, "engine", bad);
  }
  REQUIRE(s.engine == "memory");
}

TEST_CASE("apply_setting: redis-address", "[settings]") {
  settings s;
  REQUIRE(s.redis_address == std::vector<std::string>{"127.0.0.1:6379"});
  set_ok(s, "redis-address", "redis:6379");
  REQUIRE(s.redis_address == std::vector<std::string>{"redis:6379"});
  set_ok(s, "redis-address",
         " redis-a.example.com:6379 , 10.0.0.2:6380,[::1]:1,[2001:db8::7]:65535 ");
  REQUIRE(s.redis_address == std::vector<std::string>{"redis-a.example.com:6379", "10.0.0.2:6380",
                                                      "[::1]:1", "[2001:db8::7]:65535"});
  for (const char* good : {"localhost:6379", "redis_1:6379", "r:1", "a.b-c.d:65535", "0.0.0.0:6379",
                           "255.255.255.255:6379", "1host:6379"}) {
    set_ok(s, "redis-address", good);
    REQUIRE(s.redis_address == std::vector<std::string>{good});
  }
  // Empty items are dropped; an empty list is accepted here and refused by
  // check_settings when engine = redis.
  set_ok(s, "redis-address", "");
  REQUIRE(s.redis_address.empty());

  set_ok(s, "redis-address", "kept:6379");
  const auto message = set_bad(s, "redis-address", "redis:6379, host:0");
  REQUIRE(message.find("'host:0'") != std::string::npos);
  REQUIRE(message.find("1..65535") != std::string::npos);
  REQUIRE(set_bad(s, "redis-address", "a:6379,b:6379,a:6379") == "entry 'a:6379' is listed twice");
  for (const char* bad : {"host",
                          "host:",
                          ":6379",
                          "host:65536",
                          "host:-1",
                          "host:63x79",
                          "host:+6379",
                          "::1:6379",
                          "[::1]",
                          "[::1:6379",
                          "[]:6379",
                          "[127.0.0.1]:6379",
                          "[::g]:6379",
                          "-host:6379",
                          "host-:6379",
                          "a..b:6379",
                          ".host:6379",
                          "host.:6379",
                          "ho st:6379",
                          "ho/st:6379",
                          "256.0.0.1:6379",
                          "1.2.3:6379",
                          "redis://host:6379"}) {
    const auto why = set_bad(s, "redis-address", bad);
    REQUIRE(why.find("'" + std::string{bad} + "'") != std::string::npos);
  }
  set_bad(s, "redis-address", std::string(64, 'a') + ".example:6379");
  set_bad(s, "redis-address", "ok:6379, bad:0");
  REQUIRE(s.redis_address == std::vector<std::string>{"kept:6379"});
}

TEST_CASE("apply_setting: redis-user and redis-password take any string", "[settings]") {
  settings s;
  REQUIRE(s.redis_user.empty());
  REQUIRE(s.redis_password.empty());
  set_ok(s, "redis-user", "herald");
  REQUIRE(s.redis_user == "herald");
  set_ok(s, "redis-password", "s3cr\"et, with \\ and spaces");
  REQUIRE(s.redis_password == "s3cr\"et, with \\ and spaces");
  set_ok(s, "redis-user", "");
  REQUIRE(s.redis_user.empty());
  // Printed as set, like api-key and token-hmac-secret: --dump-config's
  // output is a config file that Herald accepts back.
  REQUIRE(dump_settings(s).find("redis-password = \"s3cr\\\"et, with \\\\ and spaces\"\n") !=
          std::string::npos);
}

TEST_CASE("apply_setting: redis-db", "[settings]") {
  settings s;
  REQUIRE(s.redis_db == 0);
  set_ok(s, "redis-db", "15");
  REQUIRE(s.redis_db == 15);
  set_ok(s, "redis-db", "65535");
  REQUIRE(s.redis_db == 65535);
  REQUIRE(set_bad(s, "redis-db", "65536") == "expected an integer in 0..65535, got '65536'");
  for (const char* bad : {"", "-1", "one", "1.0", "0x1"}) {
    set_bad(s, "redis-db", bad);
  }
  set_ok(s, "redis-db", "0");
  REQUIRE(s.redis_db == 0);
}

TEST_CASE("apply_setting: redis-prefix", "[settings]") {
  settings s;
  REQUIRE(s.redis_prefix == "herald");
  set_ok(s, "redis-prefix", "prod:eu-1.herald_v2");
  REQUIRE(s.redis_prefix == "prod:eu-1.herald_v2");
  const std::string longest(64, 'p');
  set_ok(s, "redis-prefix", longest);
  REQUIRE(s.redis_prefix == longest);
  set_ok(s, "redis-prefix", "x");
  REQUIRE(s.redis_prefix == "x");
  REQUIRE(set_bad(s, "redis-prefix", "") == "expected 1 to 64 of A-Z a-z 0-9 _ . : -, got ''");
  for (const char* bad : {"a b", "a/b", "a{b}", "a*", "\xc3\xa9t\xc3\xa9", "a\"b", "a,b"}) {
    set_bad(s, "redis-prefix", bad);
  }
  set_bad(s, "redis-prefix", std::string(65, 'p'));
  REQUIRE(s.redis_prefix == "x");
}

TEST_CASE("apply_setting: redis timeouts are durations of at least 1ms", "[settings]") {
  settings s;
  REQUIRE(s.redis_connect_timeout == 1s);
  REQUIRE(s.redis_io_timeout == 4s);
  set_ok(s, "redis-connect-timeout", "250ms");
  REQUIRE(s.redis_connect_timeout == 250ms);
  set_ok(s, "redis-io-timeout", "2min");
  REQUIRE(s.redis_io_timeout == 2min);
  set_ok(s, "redis-io-timeout", "1ms");
  REQUIRE(s.redis_io_timeout == 1ms);
  for (const char* key : {"redis-connect-timeout", "redis-io-timeout"}) {
    REQUIRE(set_bad(s, key, "0s") == "must be at least 1ms, got '0s'");
    for (const char* bad : {"0", "0ms", "999us", "100ns"}) {
      REQUIRE(set_bad(s, key, bad) == "must be at least 1ms, got '" + std::string{bad} + "'");
    }
    for (const char* bad : {"", "soon", "-1s", "1.5s"}) {
      REQUIRE(set_bad(s, key, bad) ==
              "expected a duration such as 500ms, 25s or 2min, got '" + std::string{bad} + "'");
    }
  }
  REQUIRE(s.redis_connect_timeout == 250ms);
  REQUIRE(s.redis_io_timeout == 1ms);
}

TEST_CASE("apply_setting: node-name", "[settings]") {
  settings s;
  REQUIRE(s.node_name.empty());
  set_ok(s, "node-name", "herald-1.example:8000");
  REQUIRE(s.node_name == "herald-1.example:8000");
  const std::string longest(128, 'n');
  set_ok(s, "node-name", longest);
  REQUIRE(s.node_name == longest);
  REQUIRE(set_bad(s, "node-name", std::string(129, 'n')) == "expected at most 128 bytes, got 129");
  set_bad(s, "node-name", "line\nbreak");
  set_bad(s, "node-name", std::string{"nul\0byte", 8});
  REQUIRE(s.node_name == longest);
  set_ok(s, "node-name", "");  // back to hostname:port
  REQUIRE(s.node_name.empty());
}

TEST_CASE("apply_setting: log-level and log-format", "[settings]") {
  settings s;
  REQUIRE(s.log_level == "info");
  REQUIRE(s.log_format == "text");
  for (const char* level : {"error", "warn", "info", "debug"}) {
    set_ok(s, "log-level", level);
    REQUIRE(s.log_level == level);
  }
  REQUIRE(set_bad(s, "log-level", "verbose") ==
          "expected error, warn, info or debug, got 'verbose'");
  for (const char* bad : {"", "DEBUG", "warning", "trace", " info"}) {
    set_bad(s, "log-level", bad);
  }
  REQUIRE(s.log_level == "debug");
  set_ok(s, "log-format", "json");
  REQUIRE(s.log_format == "json");
  REQUIRE(set_bad(s, "log-format", "xml") == "expected text or json, got 'xml'");
  set_bad(s, "log-format", "JSON");
  REQUIRE(s.log_format == "json");
}

TEST_CASE("check_settings: engine = redis needs a redis-address", "[settings]") {
  temp_dir dir;
  settings s;
  s.static_dir = dir.path().string();
  s.redis_address.clear();
  REQUIRE(check_settings(s).empty());  // the memory engine does not use it

  s.engine = "redis";
  auto errors = check_settings(s);
  REQUIRE(errors.size() == 1);
  REQUIRE(errors[0].key == "redis-address");
  REQUIRE(errors[0].line() ==
          "herald: config: redis-address: engine = redis needs at least one host:port");

  s.redis_address = {"127.0.0.1:6379"};
  REQUIRE(check_settings(s).empty());
}

TEST_CASE("redis settings from the command line and the environment", "[settings]") {
  const char* const envp[] = {"HERALD_ENGINE=redis",         "HERALD_REDIS_ADDRESS=a:6379, b:6380",
                              "HERALD_REDIS_PASSWORD=pw",    "HERALD_REDIS_DB=3",
                              "HERALD_REDIS_IO_TIMEOUT=10s", nullptr};
  settings s;
  REQUIRE(apply_settings(s, read_environment(envp).overrides).empty());
  const auto cl = parse_command_line({"--redis-prefix=staging", "--node-name=n1",
                                      "--redis-connect-timeout=300ms", "--redis-user=u"});
  REQUIRE(cl.errors.empty());
  REQUIRE(apply_settings(s, cl.overrides).empty());
  REQUIRE(s.engine == "redis");
  REQUIRE(s.redis_address == std::vector<std::string>{"a:6379", "b:6380"});
  REQUIRE(s.redis_password == "pw");
  REQUIRE(s.redis_db == 3);
  REQUIRE(s.redis_io_timeout == 10s);
  REQUIRE(s.redis_prefix == "staging");
  REQUIRE(s.node_name == "n1");
  REQUIRE(s.redis_connect_timeout == 300ms);
  REQUIRE(s.redis_user == "u");

  const auto errors =
      apply_settings(s, {{"engine", "mongo"}, {"redis-address", "host:0"}, {"redis-db", "70000"}});
  REQUIRE(error_keys(errors) == std::vector<std::string>{"engine", "redis-address", "redis-db"});
}

TEST_CASE("check_settings: TLS files come in pairs, and tls-port needs them", "[settings]") {
  settings s;
  s.static_dir = ".";
  const auto keys_of = [](const std::vector<config_error>& errors) {
    std::vector<std::string> keys;
    for (const auto& error : errors) {
      keys.push_back(error.key);
    }
    return keys;
  };
  s.tls_cert = "/etc/hostname";  // a readable file; whether it is PEM is the transport's check
  REQUIRE(keys_of(check_settings(s)) == std::vector<std::string>{"tls-key"});
  s.tls_key = "/etc/hostname";
  REQUIRE(check_settings(s).empty());
  s.tls_key = "/nonexistent/key.pem";
  REQUIRE(keys_of(check_settings(s)) == std::vector<std::string>{"tls-key"});
  s.tls_cert.clear();
  REQUIRE(keys_of(check_settings(s)) == std::vector<std::string>{"tls-cert"});
  s.tls_key.clear();
  s.tls_port = 8443;
  REQUIRE(keys_of(check_settings(s)) == std::vector<std::string>{"tls-port"});
  s.tls_cert = s.tls_key = "/etc/hostname";
  s.tls_port = s.port;
  REQUIRE(keys_of(check_settings(s)) == std::vector<std::string>{"tls-port"});
  s.tls_port = 8443;
  REQUIRE(check_settings(s).empty());
}
