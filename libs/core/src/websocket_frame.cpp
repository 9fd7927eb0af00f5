#include "herald/core/websocket_frame.hpp"

#include <cassert>
#include <cstdint>

#include "websocket_frame_layout.hpp"

namespace herald::core {
namespace {

constexpr unsigned char fin_text = 0x81;

void write_text_frame_header(char* out, std::uint64_t size) {
  frame_layout::write_server_header(out, fin_text, size);
}

}  // namespace

frame_batch_ptr make_text_batch(std::string_view payload, std::string channel) {
  auto batch = std::make_shared<frame_batch>();
  batch->append(make_frame(encode_text_frame(payload)));
  batch->channel = std::move(channel);
  return batch;
}

std::string encode_text_frame_of(std::size_t at_least,
                                 const std::function<void(std::string&)>& append) {
  // Room for what the encoder adds around the data (keys, offsets, infos),
  // so that the text grows in place rather than being copied again.
  const std::size_t room = at_least + at_least / 16 + 4096;
  if (at_least <= frame_layout::max_16bit_length) {
    std::string payload;
    payload.reserve(room);
    append(payload);
    return encode_text_frame(payload);
  }
  // Over 64 KiB: the header is the 10-byte form, whatever the size.
  const std::size_t header = text_frame_header_size(at_least);
  std::string frame;
  frame.reserve(header + room);
  frame.append(header, '\0');
  append(frame);
  const auto size = static_cast<std::uint64_t>(frame.size() - header);
  // Else the frame would carry a 10-byte length for a size that needs a
  // shorter one, which RFC 6455 (5.2) forbids.
  assert(size >= at_least && "at_least is not a lower bound of the payload");
  write_text_frame_header(frame.data(), size);
  return frame;
}

std::size_t text_frame_header_size(std::size_t payload_size) {
  return frame_layout::server_header_size(payload_size);
}

std::string encode_text_frame(std::string_view payload) {
  std::string frame(text_frame_header_size(payload.size()), '\0');
  frame.reserve(frame.size() + payload.size());
  write_text_frame_header(frame.data(), payload.size());
  frame.append(payload);
  return frame;
}

bool is_valid_websocket_key(std::string_view key) {
  constexpr std::size_t encoded_16_bytes = 24;  // 22 digits and "=="
  if (key.size() != encoded_16_bytes || key.substr(22) != "==") {
    return false;
  }
  const auto is_base64_digit = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
  };
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_digit(key[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace herald::core
