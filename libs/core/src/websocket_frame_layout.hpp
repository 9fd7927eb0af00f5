#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::core {

// The parts of a WebSocket frame header (RFC 6455 5.2) that the server's
// encoders need: reading back the header of a frame Herald made, and
// writing one in the shortest length form.
struct frame_layout {
  static constexpr unsigned char fin_bit = 0x80;
  static constexpr unsigned char rsv1_bit = 0x40;  // permessage-deflate: compressed
  static constexpr unsigned char control_bit = 0x08;
  static constexpr std::size_t max_server_header_size = 10;  // no mask
  static constexpr std::size_t max_7bit_length = 125;
  static constexpr std::size_t max_16bit_length = 0xffff;
  static constexpr unsigned char length_16bit = 126;
  static constexpr unsigned char length_64bit = 127;

  unsigned char first_byte = 0;  // FIN, RSV1-3, opcode
  std::size_t header_size = 0;
  std::uint64_t payload_size = 0;

  // The bytes of extended length after a header's second byte, from the
  // 7-bit length in it: 0, 2 (126) or 8 (127).
  static std::size_t extended_length_size(unsigned length7) {
    if (length7 == length_16bit) {
      return 2;
    }
    return length7 == length_64bit ? 8 : 0;
  }

  bool is_control() const { return (first_byte & control_bit) != 0; }
  bool rsv1() const { return (first_byte & rsv1_bit) != 0; }

  // The header of `frame`, a whole unmasked frame; nullopt when it is not
  // one (too short, masked, or its length disagrees with its size).
  static std::optional<frame_layout> of_server_frame(std::string_view frame) {
    if (frame.size() < 2 || (static_cast<unsigned char>(frame[1]) & 0x80) != 0) {
      return std::nullopt;
    }
    frame_layout layout;
    layout.first_byte = static_cast<unsigned char>(frame[0]);
    const unsigned length7 = static_cast<unsigned char>(frame[1]) & 0x7f;
    const std::size_t extra = extended_length_size(length7);
    layout.header_size = 2 + extra;
    if (frame.size() < layout.header_size) {
      return std::nullopt;
    }
    layout.payload_size = length7;
    if (extra > 0) {
      layout.payload_size = 0;
      for (std::size_t i = 0; i < extra; ++i) {
        layout.payload_size = (layout.payload_size << 8) | static_cast<unsigned char>(frame[2 + i]);
      }
    }
    if (frame.size() - layout.header_size != layout.payload_size) {
      return std::nullopt;
    }
    return layout;
  }

  static std::size_t server_header_size(std::uint64_t payload_size) {
    if (payload_size <= max_7bit_length) {
      return 2;
    }
    if (payload_size <= max_16bit_length) {
      return 4;
    }
    return 10;
  }

  // Writes server_header_size(size) bytes at `out`: `first_byte`, then the
  // length in its shortest form, no mask.
  static void write_server_header(char* out, unsigned char first_byte, std::uint64_t size) {
    out[0] = static_cast<char>(first_byte);
    if (size <= max_7bit_length) {
      out[1] = static_cast<char>(size);
    } else if (size <= max_16bit_length) {
      out[1] = static_cast<char>(length_16bit);
      out[2] = static_cast<char>((size >> 8) & 0xff);
      out[3] = static_cast<char>(size & 0xff);
    } else {
      out[1] = static_cast<char>(length_64bit);
      for (int i = 0; i < 8; ++i) {
        out[2 + i] = static_cast<char>((size >> (56 - 8 * i)) & 0xff);
      }
    }
  }
};

}  // namespace herald::core
