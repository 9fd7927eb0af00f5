#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace herald::bench {

enum class ws_opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Masking keys for client frames (RFC 6455 5.3 wants them unpredictable to
// intermediaries, not cryptographically strong): a xorshift generator costs a
// few instructions per frame instead of a system call.
class mask_key_source {
 public:
  explicit mask_key_source(std::uint32_t seed) : state_(seed == 0 ? 0x9E3779B9u : seed) {}
  std::uint32_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return state_;
  }

 private:
  std::uint32_t state_;
};

// Appends one complete, final, masked client frame to `out`. `out` keeps its
// capacity between batches, so steady state appends allocate nothing.
void append_client_frame(std::vector<char>& out, ws_opcode opcode, std::string_view payload,
                         std::uint32_t mask_key);

struct ws_frame_header {
  bool fin = true;
  ws_opcode opcode = ws_opcode::text;
  // RSV1 (permessage-deflate): the message this frame starts is compressed.
  bool compressed = false;
  bool masked = false;  // servers must not mask; tolerated anyway
  std::uint32_t mask_key = 0;
  std::size_t header_bytes = 0;
  std::uint64_t payload_bytes = 0;
};

enum class frame_header_status { complete, need_more, invalid };

// Parses the header at `data`. `need_more` when fewer than the header's bytes
// are available; the payload may still be incomplete after `complete`.
// `compression_negotiated`: the connection agreed on permessage-deflate, so
// RSV1 may mark the first frame of a text or binary message. Any other
// reserved bit, or RSV1 anywhere else, is `invalid`.
frame_header_status parse_frame_header(const char* data, std::size_t size, ws_frame_header& header,
                                       bool compression_negotiated);

// Undoes a (server-side, non-conforming) mask in place.
void unmask_payload(char* payload, std::size_t size, std::uint32_t mask_key);

}  // namespace herald::bench
