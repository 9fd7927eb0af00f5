#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace herald::bench {

struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The server's address (first getaddrinfo result). Resolved once before the
// ramp: a name lookup per connection would measure the resolver.
bool resolve_server(const std::string& host, std::uint16_t port, socket_address& address,
                    std::string& error);

// A comma-separated list of numeric IPv4/IPv6 addresses for bind(), port 0.
bool parse_source_addresses(const std::string& list, std::vector<socket_address>& addresses,
                            std::string& error);

}  // namespace herald::bench
