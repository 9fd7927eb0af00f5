#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace herald::bench {

// SHA-1 of `data`, only to check the server's Sec-WebSocket-Accept (RFC 6455
// 4.2.2): a bench that skipped the check would happily measure a server that
// is not speaking WebSocket at all.
std::array<std::uint8_t, 20> sha1(std::string_view data);

}  // namespace herald::bench
