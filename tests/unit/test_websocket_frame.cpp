#include <catch2/catch.hpp>

#include <string>

#include "herald/core/websocket_frame.hpp"

using herald::core::encode_text_frame;
using herald::core::encode_text_frame_of;
using herald::core::text_frame_header_size;

namespace {

unsigned byte_at(const std::string& frame, std::size_t index) {
  return static_cast<unsigned char>(frame.at(index));
}

}  // namespace

TEST_CASE("encode_text_frame: short payloads use the 7-bit length", "[websocket_frame]") {
  const std::string frame = encode_text_frame("hi");
  REQUIRE(frame.size() == 4);
  REQUIRE(byte_at(frame, 0) == 0x81);  // FIN, text
  REQUIRE(byte_at(frame, 1) == 2);     // no mask bit: a server never masks
  REQUIRE(frame.substr(2) == "hi");
  REQUIRE(encode_text_frame("") == std::string("\x81\x00", 2));
  REQUIRE(byte_at(encode_text_frame(std::string(125, 'x')), 1) == 125);
  REQUIRE(text_frame_header_size(125) == 2);
}

TEST_CASE("encode_text_frame: 126 to 65535 bytes use the 16-bit length", "[websocket_frame]") {
  const std::string frame = encode_text_frame(std::string(126, 'x'));
  REQUIRE(frame.size() == 4 + 126);
  REQUIRE(byte_at(frame, 1) == 126);
  REQUIRE(byte_at(frame, 2) == 0);
  REQUIRE(byte_at(frame, 3) == 126);
  const std::string largest = encode_text_frame(std::string(65535, 'y'));
  REQUIRE(byte_at(largest, 1) == 126);
  REQUIRE(byte_at(largest, 2) == 0xff);
  REQUIRE(byte_at(largest, 3) == 0xff);
  REQUIRE(largest.size() == 4 + 65535);
  REQUIRE(text_frame_header_size(65535) == 4);
}

TEST_CASE("encode_text_frame: larger payloads use the 64-bit length", "[websocket_frame]") {
  const std::string frame = encode_text_frame(std::string(65536, 'z'));
  REQUIRE(byte_at(frame, 1) == 127);
  for (std::size_t i = 2; i < 7; ++i) {
    REQUIRE(byte_at(frame, i) == 0);
  }
  REQUIRE(byte_at(frame, 7) == 1);  // 65536 = 0x00 00 00 00 00 01 00 00
  REQUIRE(byte_at(frame, 8) == 0);
  REQUIRE(byte_at(frame, 9) == 0);
  REQUIRE(frame.size() == 10 + 65536);
  REQUIRE(text_frame_header_size(65536) == 10);
}

TEST_CASE("encode_text_frame_of writes the same frame as encode_text_frame", "[websocket_frame]") {
  // Each size's header form, with the lower bound right, too low (the text
  // grows past its room) and across the 64 KiB line the in-place path uses.
  for (const std::size_t size : {0u, 125u, 126u, 65535u, 65536u, 70000u, 300000u}) {
    const std::string payload(size, 'p');
    for (const std::size_t at_least : {size, size / 2, std::size_t{0}}) {
      const std::string frame =
          encode_text_frame_of(at_least, [&](std::string& out) { out.append(payload); });
      CAPTURE(size, at_least);
      REQUIRE(frame == encode_text_frame(payload));
    }
  }
}

TEST_CASE("a Sec-WebSocket-Key must be base64 of 16 bytes", "[websocket_frame]") {
  using herald::core::is_valid_websocket_key;
  CHECK(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));  // RFC 6455's example
  CHECK(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  CHECK(is_valid_websocket_key("+/+/+/+/+/+/+/+/+/+/+w=="));
  CHECK_FALSE(is_valid_websocket_key(""));
  CHECK_FALSE(is_valid_websocket_key("abc"));
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 characters
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ==="));  // 25
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));   // 18 bytes' worth
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ-=="));   // base64url digit
  CHECK_FALSE(is_valid_websocket_key("dGhlIHNhbXBsZSBub25j Q=="));
}
