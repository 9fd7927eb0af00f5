#include "socket_address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace herald::bench {

bool resolve_server(const std::string& host, std::uint16_t port, socket_address& address,
                    std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  std::string service = std::to_string(port);
  int status = getaddrinfo(host.c_str(), service.c_str(), &hints, &results);
  if (status != 0) {
    error = "cannot resolve " + host + ": " + gai_strerror(status);
    return false;
  }
  std::memcpy(&address.storage, results->ai_addr, results->ai_addrlen);
  address.length = results->ai_addrlen;
  freeaddrinfo(results);
  return true;
}

bool parse_source_addresses(const std::string& list, std::vector<socket_address>& addresses,
                            std::string& error) {
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? comma : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) {
      continue;
    }
    socket_address address;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    if (inet_pton(AF_INET, item.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      address.length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, item.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      address.length = sizeof(sockaddr_in6);
    } else {
      error = "--source-addrs: not a numeric IP address: " + item;
      return false;
    }
    addresses.push_back(address);
  }
  return true;
}

}  // namespace herald::bench
