#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::redis {

struct server_address {
  std::string host;
  std::uint16_t port = 6379;

  std::string text() const;  // host:port, [v6]:port
};

// "host:port" or "[v6 address]:port", port 1..65535; nullopt otherwise.
std::optional<server_address> parse_server_address(std::string_view text);

}  // namespace herald::redis
