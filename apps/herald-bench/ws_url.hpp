#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

// A ws:// or wss:// URL, split.
struct ws_url {
  bool tls = false;         // wss://
  std::string host;         // without IPv6 brackets
  std::uint16_t port = 80;  // ws:// default, 443 for wss://
  std::string path = "/";   // request target, query included
  std::string host_header;  // host[:port] as written, for the Host header
};

// False (and `error` set) for anything but ws[s]://host[:port][/path].
bool parse_ws_url(std::string_view text, ws_url& url, std::string& error);

}  // namespace herald::bench
