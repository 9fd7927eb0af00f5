#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "herald/core/permessage_deflate.hpp"
#include "herald/core/websocket_frame.hpp"

namespace core = herald::core;

namespace {

// A JSON-like payload that compresses well, as publications do.
std::string compressible(std::size_t size) {
  std::string text;
  for (int i = 0; text.size() < size; ++i) {
    text += R"({"user":"u)" + std::to_string(i % 7) + R"(","price":)" + std::to_string(i) + "},";
  }
  text.resize(size);
  return text;
}

// A binary frame of 4096 random bytes, which deflate cannot shrink.
std::string random_binary_frame() {
  std::mt19937 random(7);
  std::string frame{'\x82', '\x7e', '\x10', '\x00'};
  for (int i = 0; i < 4096; ++i) {
    frame += static_cast<char>(random() & 0xff);
  }
  return frame;
}

// The payload of a whole unmasked frame.
std::string payload_of(const std::string& frame) {
  const unsigned length7 = static_cast<unsigned char>(frame.at(1)) & 0x7f;
  const std::size_t header = length7 == 126 ? 4 : (length7 == 127 ? 10 : 2);
  return frame.substr(header);
}

std::string inflate(const std::string& compressed, std::size_t limit = 1 << 20) {
  std::string out;
  REQUIRE(core::inflate_message(compressed + std::string("\x00\x00\xff\xff", 4), limit, out) ==
          core::inflate_result::ok);
  return out;
}

}  // namespace

TEST_CASE("permessage-deflate offers: what Herald accepts", "[permessage_deflate]") {
  using core::accept_deflate_offer;
  CHECK(accept_deflate_offer("permessage-deflate"));
  // What Chromium, Node's ws and Python's websockets offer.
  CHECK(accept_deflate_offer("permessage-deflate; client_max_window_bits"));
  CHECK(accept_deflate_offer("permessage-deflate;client_max_window_bits=10"));
  CHECK(accept_deflate_offer("Permessage-Deflate; Client_Max_Window_Bits"));
  CHECK(accept_deflate_offer(
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=15"));
  CHECK(accept_deflate_offer(R"(permessage-deflate; client_max_window_bits="12")"));
  // A later offer when an earlier one is declined; other extensions skipped.
  CHECK(
      accept_deflate_offer("x-webkit-deflate-frame; no_context_takeover, permessage-deflate; "
                           "server_max_window_bits=10, , permessage-deflate"));
  // The answer, and server_max_window_bits named back when offered (RFC 7692
  // 7.1.2.1: that is how the server accepts it).
  CHECK(accept_deflate_offer("permessage-deflate; client_max_window_bits") ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  CHECK(accept_deflate_offer("permessage-deflate; server_max_window_bits=15") ==
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=15");
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; client_max_window_bits=08"));
  // A smaller server window: Herald compresses once, with the full window.
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; server_max_window_bits=10"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; server_max_window_bits"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; client_max_window_bits=7"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; client_max_window_bits=16"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; client_max_window_bits=1a"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; server_no_context_takeover=1"));
  CHECK_FALSE(accept_deflate_offer(
      "permessage-deflate; server_no_context_takeover; server_no_context_takeover"));
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; x-unknown"));
  CHECK_FALSE(accept_deflate_offer("x-webkit-deflate-frame"));
  CHECK_FALSE(accept_deflate_offer(""));
  // Not an extension list: nothing is accepted, not even a valid offer before it.
  CHECK_FALSE(accept_deflate_offer("permessage-deflate; client_max_window_bits=\"1"));
  CHECK_FALSE(accept_deflate_offer("x; =1, permessage-deflate"));
  CHECK_FALSE(accept_deflate_offer("x y, permessage-deflate"));
  CHECK_FALSE(accept_deflate_offer(R"(permessage-deflate; client_max_window_bits="1\5")"));
}

TEST_CASE("deflate_frame compresses a large text frame once, RSV1 set", "[permessage_deflate]") {
  const std::string text = compressible(2048);
  const std::string frame = core::encode_text_frame(text);
  const auto compressed = core::deflate_frame(frame, core::compression_options{512, 6});
  REQUIRE(compressed);
  CHECK(static_cast<unsigned char>(compressed->at(0)) == 0xC1);  // FIN, RSV1, text
  CHECK(compressed->size() < frame.size() / 3);
  CHECK(inflate(payload_of(*compressed)) == text);
}

TEST_CASE("deflate_frame leaves small and incompressible frames alone", "[permessage_deflate]") {
  const core::compression_options options{512, 6};
  CHECK_FALSE(core::deflate_frame(core::encode_text_frame(compressible(511)), options));
  CHECK(core::deflate_frame(core::encode_text_frame(compressible(512)), options));
  CHECK_FALSE(core::deflate_frame(random_binary_frame(), options));
  // A close frame is a control frame: never compressed.
  CHECK_FALSE(
      core::deflate_frame(std::string("\x88\x02\x03\xe8", 4), core::compression_options{0, 6}));
}

TEST_CASE("deflate_frame: each level and the 64-bit length form round-trip",
          "[permessage_deflate]") {
  const std::string text = compressible(300 * 1024);
  for (int level = 1; level <= 9; level += 4) {
    const auto compressed =
        core::deflate_frame(core::encode_text_frame(text), core::compression_options{0, level});
    REQUIRE(compressed);
    CHECK(inflate(payload_of(*compressed), text.size()) == text);
  }
}

TEST_CASE("deflated: a batch is compressed once and shared", "[permessage_deflate]") {
  auto batch = std::make_shared<core::frame_batch>();
  batch->append(core::make_frame(core::encode_text_frame("small")));
  batch->append(core::make_frame(core::encode_text_frame(compressible(4096))));
  batch->channel = "news";
  const core::frame_batch_ptr plain = batch;
  const core::compression_options options{512, 6};
  const auto twin = core::deflated(plain, options);
  REQUIRE(twin != plain);
  CHECK(core::deflated(plain, options) == twin);  // made once
  REQUIRE(twin->frames.size() == 2);
  CHECK(twin->frames[0] == plain->frames[0]);  // the small frame is shared as it is
  CHECK(static_cast<unsigned char>(twin->frames[1]->at(0)) == 0xC1);
  CHECK(twin->channel == "news");
  CHECK(twin->bytes == twin->frames[0]->size() + twin->frames[1]->size());

  const core::frame_batch_ptr small = core::make_text_batch("nothing to gain");
  CHECK(core::deflated(small, options) == small);
}

TEST_CASE("inflate_message stops at its limit and rejects bad data", "[permessage_deflate]") {
  const std::string text = compressible(10000);
  const auto compressed =
      core::deflate_frame(core::encode_text_frame(text), core::compression_options{0, 6});
  REQUIRE(compressed);
  const std::string stream = payload_of(*compressed) + std::string("\x00\x00\xff\xff", 4);
  std::string out;
  CHECK(core::inflate_message(stream, text.size(), out) == core::inflate_result::ok);
  CHECK(out == text);
  out.clear();
  CHECK(core::inflate_message(stream, text.size() - 1, out) == core::inflate_result::too_big);
  CHECK(out.empty());
  CHECK(core::inflate_message("\xff\xff\xff\xff garbage", 1000, out) ==
        core::inflate_result::corrupt);
  CHECK(out.empty());
}

TEST_CASE("inflate_message: a bomb costs no more than the limit", "[permessage_deflate]") {
  // 64 MiB of zeros deflate to about 64 KiB.
  const std::string zeros(64u << 20, '\0');
  const auto compressed =
      core::deflate_frame(core::encode_text_frame(zeros), core::compression_options{0, 9});
  REQUIRE(compressed);
  CHECK(compressed->size() < 128 * 1024);
  std::string out;
  CHECK(core::inflate_message(payload_of(*compressed) + std::string("\x00\x00\xff\xff", 4), 65536,
                              out) == core::inflate_result::too_big);
  CHECK(out.capacity() < 1u << 20);
}

TEST_CASE("deflated: I/O threads asking at once get the one twin", "[permessage_deflate]") {
  // Run under scripts/sanitize.sh thread, this is the data-race check of
  // the once_flag and the twin it publishes.
  auto batch = std::make_shared<core::frame_batch>();
  for (int i = 0; i < 8; ++i) {
    batch->append(core::make_frame(core::encode_text_frame(compressible(4096 + i))));
  }
  const core::frame_batch_ptr plain = batch;
  constexpr int threads = 4;
  std::vector<core::frame_batch_ptr> seen(threads);
  std::vector<std::thread> workers;
  for (int i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] { seen[i] = core::deflated(plain, core::compression_options{}); });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  for (const auto& twin : seen) {
    CHECK(twin == seen[0]);
  }
  REQUIRE(seen[0] != plain);
  CHECK(inflate(payload_of(*seen[0]->frames[7])) == compressible(4096 + 7));
}
