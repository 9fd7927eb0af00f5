#include "ws_url.hpp"

#include <charconv>

namespace herald::bench {

bool parse_ws_url(std::string_view text, ws_url& url, std::string& error) {
  constexpr std::string_view plain_scheme = "ws://";
  constexpr std::string_view tls_scheme = "wss://";
  std::string_view rest;
  if (text.substr(0, plain_scheme.size()) == plain_scheme) {
    url.tls = false;
    rest = text.substr(plain_scheme.size());
  } else if (text.substr(0, tls_scheme.size()) == tls_scheme) {
    url.tls = true;
    rest = text.substr(tls_scheme.size());
  } else {
    error = "only ws:// and wss:// URLs are supported: " + std::string(text);
    return false;
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  url.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  url.host_header = std::string(authority);

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in " + std::string(text);
      return false;
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "bad authority in " + std::string(text);
        return false;
      }
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (url.host.empty()) {
    error = "no host in " + std::string(text);
    return false;
  }
  url.port = url.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (parsed.ec != std::errc() || parsed.ptr != port_text.data() + port_text.size() ||
        port == 0 || port > 65535) {
      error = "bad port in " + std::string(text);
      return false;
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  return true;
}

}  // namespace herald::bench
