#include "ws_frame.hpp"

namespace herald::bench {

namespace {

// Frame bytes are XORed with the key's bytes in network order: byte i with
// key byte i % 4.
void xor_with_key(const char* in, char* out, std::size_t size, std::uint32_t mask_key) {
  const unsigned char key[4] = {
      static_cast<unsigned char>(mask_key >> 24), static_cast<unsigned char>(mask_key >> 16),
      static_cast<unsigned char>(mask_key >> 8), static_cast<unsigned char>(mask_key)};
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<char>(static_cast<unsigned char>(in[i]) ^ key[i & 3]);
  }
}

}  // namespace

void append_client_frame(std::vector<char>& out, ws_opcode opcode, std::string_view payload,
                         std::uint32_t mask_key) {
  std::size_t start = out.size();
  std::size_t length_bytes = payload.size() < 126 ? 0 : (payload.size() <= 0xFFFF ? 2 : 8);
  out.resize(start + 2 + length_bytes + 4 + payload.size());
  char* p = out.data() + start;
  *p++ = static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode));
  if (length_bytes == 0) {
    *p++ = static_cast<char>(0x80 | payload.size());
  } else if (length_bytes == 2) {
    *p++ = static_cast<char>(0x80 | 126);
    *p++ = static_cast<char>(payload.size() >> 8);
    *p++ = static_cast<char>(payload.size());
  } else {
    *p++ = static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      *p++ = static_cast<char>(static_cast<std::uint64_t>(payload.size()) >> shift);
    }
  }
  *p++ = static_cast<char>(mask_key >> 24);
  *p++ = static_cast<char>(mask_key >> 16);
  *p++ = static_cast<char>(mask_key >> 8);
  *p++ = static_cast<char>(mask_key);
  xor_with_key(payload.data(), p, payload.size(), mask_key);
}

frame_header_status parse_frame_header(const char* data, std::size_t size, ws_frame_header& header,
                                       bool compression_negotiated) {
  if (size < 2) {
    return frame_header_status::need_more;
  }
  auto byte = [data](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
  // RSV2 and RSV3 belong to extensions this client never offers.
  if ((byte(0) & 0x30) != 0) {
    return frame_header_status::invalid;
  }
  header.fin = (byte(0) & 0x80) != 0;
  header.opcode = static_cast<ws_opcode>(byte(0) & 0x0F);
  // RSV1 is permessage-deflate's "compressed" bit, and only ever on a data
  // message's first frame (RFC 7692 section 6.1): never on control frames
  // nor on continuations.
  header.compressed = (byte(0) & 0x40) != 0;
  if (header.compressed && (!compression_negotiated || (header.opcode != ws_opcode::text &&
                                                        header.opcode != ws_opcode::binary))) {
    return frame_header_status::invalid;
  }
  header.masked = (byte(1) & 0x80) != 0;
  std::uint64_t length = byte(1) & 0x7F;
  std::size_t offset = 2;
  if (length == 126) {
    if (size < 4) {
      return frame_header_status::need_more;
    }
    length = (std::uint64_t{byte(2)} << 8) | byte(3);
    offset = 4;
  } else if (length == 127) {
    if (size < 10) {
      return frame_header_status::need_more;
    }
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) {
      length = (length << 8) | byte(i);
    }
    offset = 10;
  }
  if (header.masked) {
    if (size < offset + 4) {
      return frame_header_status::need_more;
    }
    header.mask_key = (std::uint32_t{byte(offset)} << 24) |
                      (std::uint32_t{byte(offset + 1)} << 16) |
                      (std::uint32_t{byte(offset + 2)} << 8) | byte(offset + 3);
    offset += 4;
  }
  header.header_bytes = offset;
  header.payload_bytes = length;
  return frame_header_status::complete;
}

void unmask_payload(char* payload, std::size_t size, std::uint32_t mask_key) {
  xor_with_key(payload, payload, size, mask_key);
}

}  // namespace herald::bench
