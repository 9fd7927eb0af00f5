#pragma once

#include <string>

#include <catch2/catch.hpp>

namespace herald::test {

// The payload of a server text frame under 64 KiB.
inline std::string payload_of(const std::string& frame) {
  REQUIRE(frame.size() >= 2);
  REQUIRE(static_cast<unsigned char>(frame[0]) == 0x81);
  const unsigned length = static_cast<unsigned char>(frame[1]);
  if (length < 126) {
    REQUIRE(length == frame.size() - 2);
    return frame.substr(2);
  }
  REQUIRE(length == 126);
  const std::size_t size =
      static_cast<unsigned char>(frame.at(2)) * 256u + static_cast<unsigned char>(frame.at(3));
  REQUIRE(size == frame.size() - 4);
  return frame.substr(4);
}

}  // namespace herald::test
