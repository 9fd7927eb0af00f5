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

using setter = std::function<std::optional<std::string>(settings&, std::string_view)>;
using getter = std::function<std::string(const settings&)>;

struct option_entry {
  option_info info;
  setter set;
  getter get;
};

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

template <class Int>
option_entry unsigned_option(std::string_view name, Int settings::*member, std::uint64_t min,
                             std::uint64_t max, std::string_view help) {
  return {{name, option_kind::unsigned_integer, help},
          [member, min, max](settings& s, std::string_view text) -> std::optional<std::string> {
            auto value = parse_unsigned(text);
            if (!value || *value < min || *value > max) {
              return "expected an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                     ", got '" + std::string{text} + "'";
            }
            s.*member = static_cast<Int>(*value);
            return std::nullopt;
          },
          [member](const settings& s) { return std::to_string(s.*member); }};
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

option_entry bool_option(std::string_view name, bool settings::*member, std::string_view help) {
  return {{name, option_kind::boolean, help},
          [member](settings& s, std::string_view text) -> std::optional<std::string> {
            if (text == "true") {
              s.*member = true;
            } else if (text == "false") {
              s.*member = false;
            } else {
              return "expected true or false, got '" + std::string{text} + "'";
            }
            return std::nullopt;
          },
          [member](const settings& s) { return std::string{s.*member ? "true" : "false"}; }};
}

option_entry duration_option(std::string_view name, std::chrono::milliseconds settings::*member,
                             std::string_view help) {
  return {{name, option_kind::duration, help},
          [member](settings& s, std::string_view text) -> std::optional<std::string> {
            auto value = parse_duration(text);
            if (!value) {
              return "expected a duration such as 500ms, 25s or 2min, got '" + std::string{text} +
                     "'";
            }
            s.*member = *value;
            return std::nullopt;
          },
          [member](const settings& s) { return format_duration(s.*member); }};
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

option_entry origins_option() {
  return {{"allowed-origins", option_kind::string_list,
           "Origin patterns allowed to upgrade, comma-separated (e.g. https://*.example.com); "
           "empty allows any"},
          [](settings& s, std::string_view text) -> std::optional<std::string> {
            std::vector<std::string> patterns;
            for (auto item : split_comma_list(text)) {
              patterns.emplace_back(item);
            }
            for (const auto& pattern : patterns) {
              if (!valid_origin_pattern(pattern)) {
                return "bad origin pattern '" + pattern +
                       "' (expected * or scheme://host[:port], * as wildcard)";
              }
            }
            s.allowed_origins = std::move(patterns);
            return std::nullopt;
          },
          [](const settings& s) {
            std::string out = "[";
            for (std::size_t i = 0; i < s.allowed_origins.size(); ++i) {
              out += (i == 0 ? "" : ", ") + quote(s.allowed_origins[i]);
            }
            return out + "]";
          }};
}

const std::vector<option_entry>& entries() {
  constexpr std::uint64_t unlimited = std::numeric_limits<std::uint32_t>::max();
  static const std::vector<option_entry> table{
      unsigned_option("port", &settings::port, 0, 65535,
                      "TCP port to listen on (0: any free port, printed at start)"),
      string_option("address", &settings::address, ip_address, "Address to bind"),
      string_option("static-dir", &settings::static_dir, any_string,
                    "Folder served for every path that is not an endpoint"),
      unsigned_option("workers", &settings::workers, 0, 1024,
                      "I/O threads and actor scheduler threads (0: one per core)"),
      string_option("seed-channel", &settings::seed_channel, channel_name,
                    "Channel that /ws clients publish to and receive from"),
      origins_option(),
      unsigned_option("max-connections", &settings::max_connections, 0, unlimited,
                      "WebSocket connections held at once; more get 503 (0: no limit)"),
      unsigned_option("max-message-bytes", &settings::max_message_bytes, 16, 64u << 20,
                      "Largest message a client may send; larger closes with 1009"),
      unsigned_option("client-queue-max-bytes", &settings::client_queue_max_bytes, 1024, 1u << 30,
                      "Unsent bytes held per client before it is disconnected as slow"),
      string_option("token-hmac-secret", &settings::token_hmac_secret, any_string,
                    "Client protocol: HMAC secret of HS256 connection and channel tokens "
                    "(empty: no token is valid)"),
      bool_option("allow-anonymous", &settings::allow_anonymous,
                  "Client protocol: let connections without a token in, as user \"\""),
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
  };
  return table;
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

std::optional<config_error> apply_setting(settings& s, std::string_view key,
                                          std::string_view text) {
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

std::vector<config_error> check_settings(const settings& s) {
  std::vector<config_error> errors;
  std::error_code ec;
  if (!std::filesystem::is_directory(s.static_dir, ec)) {
    errors.push_back({"static-dir", "'" + s.static_dir + "' is not a readable folder"});
  } else if (::access(s.static_dir.c_str(), R_OK | X_OK) != 0) {
    errors.push_back({"static-dir", "'" + s.static_dir + "' is not readable"});
  }
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
  }
  return errors;
}

std::string dump_settings(const settings& s) {
  std::ostringstream out;
  out << "; Herald effective configuration\n[global]\n";
  for (const auto& entry : entries()) {
    out << entry.info.name << " = " << entry.get(s) << "\n";
  }
  return out.str();
}

std::string options_help() {
  std::ostringstream out;
  const settings defaults;
  for (const auto& entry : entries()) {
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
