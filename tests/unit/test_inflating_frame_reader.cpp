#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>

#include "herald/core/inflating_frame_reader.hpp"
#include "herald/core/permessage_deflate.hpp"
#include "herald/core/websocket_frame.hpp"

namespace core = herald::core;
using reader = core::inflating_frame_reader;

namespace {

constexpr unsigned char fin = 0x80;
constexpr unsigned char rsv1 = 0x40;
constexpr unsigned char continuation = 0x0;
constexpr unsigned char text = 0x1;
constexpr unsigned char binary = 0x2;
constexpr unsigned char ping = 0x9;
constexpr unsigned char close_opcode = 0x8;
constexpr std::array<unsigned char, 4> key{0x12, 0x34, 0x56, 0x78};

// A client frame: masked with `key` unless `masked` is false.
std::string client_frame(unsigned char first, const std::string& payload, bool masked = true) {
  std::string frame(1, static_cast<char>(first));
  const unsigned char mask = masked ? 0x80 : 0;
  if (payload.size() <= 125) {
    frame += static_cast<char>(mask | payload.size());
  } else if (payload.size() <= 0xffff) {
    frame += static_cast<char>(mask | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  } else {
    frame += static_cast<char>(mask | 127);
    for (int i = 7; i >= 0; --i) {
      frame += static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xff);
    }
  }
  if (!masked) {
    return frame + payload;
  }
  frame.append(reinterpret_cast<const char*>(key.data()), key.size());
  for (std::size_t i = 0; i < payload.size(); ++i) {
    frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i % 4]);
  }
  return frame;
}

// What a client's deflater sends for `message`: RFC 7692's tail removed.
std::string compress(const std::string& message) {
  const auto frame =
      core::deflate_frame(core::encode_text_frame(message), core::compression_options{0, 6});
  REQUIRE(frame);
  const unsigned length7 = static_cast<unsigned char>(frame->at(1)) & 0x7f;
  return frame->substr(length7 == 126 ? 4 : (length7 == 127 ? 10 : 2));
}

// The frame the reader gives the parser for an inflated message.
std::string inflated_frame(unsigned char opcode, const std::string& payload) {
  std::string frame = client_frame(fin | opcode, payload, false);
  frame[1] = static_cast<char>(static_cast<unsigned char>(frame[1]) | 0x80);
  const std::size_t header = frame.size() - payload.size();
  frame.insert(header, 4, '\0');
  return frame;
}

std::string long_text(std::size_t size) {
  std::string text;
  while (text.size() < size) {
    text += R"({"channel":"prices","data":{"bid":1.0842,"ask":1.0844}})";
  }
  text.resize(size);
  return text;
}

}  // namespace

TEST_CASE("inflating_frame_reader passes plain frames as they came", "[inflating_frame_reader]") {
  reader in(65536);
  const std::string input = client_frame(fin | text, "hello") + client_frame(fin | ping, "p") +
                            client_frame(text, "frag") + client_frame(fin | continuation, "ment") +
                            client_frame(fin | binary, long_text(300));
  std::string out;
  CHECK_FALSE(in.read(input, out));
  CHECK(out == input);
}

TEST_CASE("inflating_frame_reader inflates a compressed message into one frame",
          "[inflating_frame_reader]") {
  const std::string message = long_text(5000);
  const std::string input = client_frame(fin | rsv1 | text, compress(message));
  SECTION("read at once") {
    reader in(65536);
    std::string out;
    CHECK_FALSE(in.read(input, out));
    CHECK(out == inflated_frame(text, message));
  }
  SECTION("read a byte at a time") {
    reader in(65536);
    std::string out;
    for (const char byte : input) {
      CHECK_FALSE(in.read(std::string_view(&byte, 1), out));
    }
    CHECK(out == inflated_frame(text, message));
  }
}

TEST_CASE("inflating_frame_reader: fragments, a ping between them, then a plain message",
          "[inflating_frame_reader]") {
  const std::string message = long_text(3000);
  const std::string compressed = compress(message);
  const std::size_t third = compressed.size() / 3;
  const std::string input = client_frame(rsv1 | binary, compressed.substr(0, third)) +
                            client_frame(fin | ping, "hi") +
                            client_frame(continuation, compressed.substr(third, third)) +
                            client_frame(fin | continuation, compressed.substr(2 * third)) +
                            client_frame(fin | text, "after");
  reader in(65536);
  std::string out;
  CHECK_FALSE(in.read(input, out));
  CHECK(out == client_frame(fin | ping, "hi") + inflated_frame(binary, message) +
                   client_frame(fin | text, "after"));
}

TEST_CASE("inflating_frame_reader: an empty compressed message", "[inflating_frame_reader]") {
  reader in(100);
  std::string out;
  CHECK_FALSE(in.read(client_frame(fin | rsv1 | text, std::string(1, '\0')), out));
  CHECK(out == inflated_frame(text, ""));
}

TEST_CASE("inflating_frame_reader leaves frames that break RFC 6455 to the parser",
          "[inflating_frame_reader]") {
  reader in(65536);
  // RSV1 on a plain message's continuation, an unmasked compressed frame,
  // RSV2: the parser closes with 1002 for each.
  const std::string input = client_frame(text, "a") + client_frame(fin | rsv1, "b") +
                            client_frame(fin | rsv1 | text, "c", false) +
                            client_frame(fin | 0x20 | text, "d");
  std::string out;
  CHECK_FALSE(in.read(input, out));
  CHECK(out == input);
}

TEST_CASE("inflating_frame_reader fails what only it can see, with the close code",
          "[inflating_frame_reader]") {
  const std::string compressed = compress(long_text(2000));
  SECTION("RSV1 on a compressed message's continuation: 1002") {
    reader in(65536);
    std::string out;
    const auto failure = in.read(client_frame(rsv1 | text, compressed.substr(0, 10)) +
                                     client_frame(fin | rsv1 | continuation, compressed.substr(10)),
                                 out);
    REQUIRE(failure);
    CHECK(failure->code == 1002);
    CHECK(out.empty());
  }
  SECTION("a new message inside a compressed one: 1002") {
    reader in(65536);
    std::string out;
    const auto failure = in.read(
        client_frame(rsv1 | text, compressed.substr(0, 10)) + client_frame(fin | text, "x"), out);
    REQUIRE(failure);
    CHECK(failure->code == 1002);
  }
  SECTION("data that is not DEFLATE: 1007") {
    reader in(65536);
    std::string out;
    const auto failure = in.read(client_frame(fin | rsv1 | text, "\xff\xfe\xfd not deflate"), out);
    REQUIRE(failure);
    CHECK(failure->code == 1007);
    CHECK(out.empty());
  }
  SECTION("inflating past max-message-bytes: 1009, a bomb included") {
    reader in(1999);
    std::string out;
    auto failure = in.read(client_frame(fin | rsv1 | text, compressed), out);
    REQUIRE(failure);
    CHECK(failure->code == 1009);

    reader bombed(65536);
    const std::string bomb = compress(std::string(32u << 20, 'a'));
    CHECK(bomb.size() < 64 * 1024);
    failure = bombed.read(client_frame(fin | rsv1 | binary, bomb), out);
    REQUIRE(failure);
    CHECK(failure->code == 1009);
    CHECK(out.empty());
  }
  SECTION("a compressed frame longer than the bound fails at its header: 1009") {
    reader in(1000);
    std::string out;
    // Only the header is sent: the reader need not wait for the payload.
    const std::string header =
        client_frame(fin | rsv1 | text, std::string(70000, 'x')).substr(0, 14);
    const auto failure = in.read(header, out);
    REQUIRE(failure);
    CHECK(failure->code == 1009);
  }
}

TEST_CASE("inflating_frame_reader after a failure: data dropped, the close passes",
          "[inflating_frame_reader]") {
  reader in(65536);
  std::string out;
  REQUIRE(in.read(client_frame(fin | rsv1 | text, "\xff\xfe bad"), out));
  const std::string close = client_frame(fin | close_opcode, "\x03\xe8");
  CHECK_FALSE(in.read(client_frame(fin | text, "ignored") +
                          client_frame(fin | rsv1 | text, compress(long_text(600))) + close,
                      out));
  CHECK(out == close);
}

TEST_CASE("inflating_frame_reader: between messages only at a frame boundary outside a message",
          "[inflating_frame_reader]") {
  reader in(65536);
  std::string out;
  CHECK(in.between_messages());
  const std::string frame = client_frame(fin | rsv1 | text, compress(long_text(1000)));
  CHECK_FALSE(in.read(std::string_view(frame).substr(0, 1), out));
  CHECK_FALSE(in.between_messages());  // half a header
  CHECK_FALSE(in.read(std::string_view(frame).substr(1, 20), out));
  CHECK_FALSE(in.between_messages());  // inside the payload
  CHECK_FALSE(in.read(std::string_view(frame).substr(21), out));
  CHECK(in.between_messages());
  CHECK_FALSE(in.read(client_frame(rsv1 | text, "ab"), out));
  CHECK_FALSE(in.between_messages());  // a fragmented message goes on
  CHECK(in.read(client_frame(fin | continuation, "\xff"), out));
  CHECK_FALSE(in.between_messages());  // failed: it must keep dropping data frames
}
