#include "herald/core/inflating_frame_reader.hpp"

#include <algorithm>

#include "herald/core/permessage_deflate.hpp"
#include "websocket_frame_layout.hpp"

namespace herald::core {
namespace {

constexpr unsigned char fin_bit = frame_layout::fin_bit;
constexpr unsigned char rsv1_bit = frame_layout::rsv1_bit;
constexpr unsigned char rsv23_bits = 0x30;
constexpr unsigned char opcode_bits = 0x0f;
constexpr unsigned char mask_bit = 0x80;
constexpr unsigned char continuation = 0x0;
constexpr unsigned char text = 0x1;
constexpr unsigned char binary = 0x2;

constexpr std::uint16_t protocol_error = 1002;
constexpr std::uint16_t invalid_payload = 1007;
constexpr std::uint16_t message_too_big = 1009;
constexpr std::uint16_t internal_error = 1011;

// A read buffer that grew past this for one large message is freed after it.
constexpr std::size_t kept_capacity = 16 * 1024;

// The header's size once its first two bytes are known.
std::size_t header_size(const std::array<unsigned char, 14>& header) {
  return 2 + frame_layout::extended_length_size(header[1] & 0x7f) +
         ((header[1] & mask_bit) != 0 ? 4 : 0);
}

// Appends a client frame as the parser expects one: FIN, `opcode`, masked
// with the zero key (so unmasking leaves the bytes as they are).
void append_inflated_frame(std::string& out, unsigned char opcode, std::string_view payload) {
  char header[frame_layout::max_server_header_size];
  const std::size_t size = frame_layout::server_header_size(payload.size());
  frame_layout::write_server_header(header, fin_bit | opcode, payload.size());
  header[1] = static_cast<char>(static_cast<unsigned char>(header[1]) | mask_bit);
  out.append(header, size);
  out.append(4, '\0');
  out.append(payload);
}

}  // namespace

inflating_frame_reader::inflating_frame_reader(std::size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes) {}

std::optional<inflating_frame_reader::failure> inflating_frame_reader::fail(
    std::uint16_t code, std::string_view reason) {
  failed_ = true;
  use_ = payload_use::drop;
  message_ = message::none;
  std::string().swap(compressed_);
  return failure{code, reason};
}

std::optional<inflating_frame_reader::failure> inflating_frame_reader::read(std::string_view input,
                                                                            std::string& out) {
  std::optional<failure> first;
  const auto note = [&first](std::optional<failure> found) {
    if (found && !first) {
      first = found;
    }
  };
  std::size_t at = 0;
  while (at < input.size()) {
    if (stage_ == stage::header) {
      const std::size_t wanted = header_have_ < 2 ? 2 : header_size(header_);
      const std::size_t take = std::min(wanted - header_have_, input.size() - at);
      std::copy_n(input.data() + at, take, header_.data() + header_have_);
      header_have_ = static_cast<std::uint8_t>(header_have_ + take);
      at += take;
      if (header_have_ < 2 || header_have_ < header_size(header_)) {
        continue;
      }
      note(on_header(out));
      if (payload_left_ == 0) {
        note(on_frame_end(out));
      } else {
        stage_ = stage::payload;
      }
      continue;
    }
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, input.size() - at));
    const std::string_view piece = input.substr(at, take);
    if (use_ == payload_use::pass) {
      out.append(piece);
    } else if (use_ == payload_use::gather) {
      const std::size_t before = compressed_.size();
      compressed_.append(piece);
      for (std::size_t i = 0; i < take; ++i) {
        compressed_[before + i] = static_cast<char>(
            static_cast<unsigned char>(compressed_[before + i]) ^ mask_[(payload_seen_ + i) % 4]);
      }
    }
    payload_left_ -= take;
    payload_seen_ += take;
    at += take;
    if (payload_left_ == 0) {
      stage_ = stage::header;
      note(on_frame_end(out));
    }
  }
  return first;
}

std::optional<inflating_frame_reader::failure> inflating_frame_reader::on_header(std::string& out) {
  const std::size_t size = header_have_;
  header_have_ = 0;
  const unsigned char first = header_[0];
  const unsigned length7 = header_[1] & 0x7f;
  const std::size_t extra = frame_layout::extended_length_size(length7);
  std::uint64_t length = extra == 0 ? length7 : 0;
  for (std::size_t i = 0; i < extra; ++i) {
    length = (length << 8) | header_[2 + i];
  }
  const std::size_t at = 2 + extra;
  const bool masked = (header_[1] & mask_bit) != 0;
  if (masked) {
    std::copy_n(header_.data() + at, 4, mask_.data());
  }
  payload_left_ = length;
  payload_seen_ = 0;
  frame_fin_ = (first & fin_bit) != 0;
  const unsigned char opcode = first & opcode_bits;
  const bool data_frame = opcode == continuation || opcode == text || opcode == binary;
  const bool pass_as_is = !data_frame || !masked || (first & rsv23_bits) != 0;

  const auto pass = [&] {
    use_ = payload_use::pass;
    out.append(reinterpret_cast<const char*>(header_.data()), size);
  };
  if (failed_) {
    // Only control frames still reach the parser: the client's close ends
    // the closing handshake our close began.
    if ((first & frame_layout::control_bit) != 0) {
      pass();
    } else {
      use_ = payload_use::drop;
    }
    return std::nullopt;
  }
  if (message_ == message::compressed && data_frame && masked) {
    if (opcode != continuation) {
      return fail(protocol_error, "a new message inside a fragmented one");
    }
    if ((first & rsv1_bit) != 0) {
      return fail(protocol_error, "RSV1 on a continuation frame");
    }
  }
  if (pass_as_is) {
    pass();  // the parser fails it, or (a control frame) handles it
    return std::nullopt;
  }
  if (opcode != continuation && (first & rsv1_bit) != 0) {
    message_ = message::compressed;
    compressed_opcode_ = opcode;
    compressed_.clear();
  }
  const bool whole_message = opcode != continuation && frame_fin_;
  if (message_ == message::compressed) {
    // Deflate may grow incompressible data by a few bytes per 16 KiB block;
    // past that, the message would inflate past the bound anyway.
    const std::uint64_t bound = max_message_bytes_ + max_message_bytes_ / 64 + 64;
    if (length > bound - std::min<std::uint64_t>(bound, compressed_.size())) {
      return fail(message_too_big, "message too big");
    }
    if (whole_message) {
      compressed_.reserve(length + 4);  // the payload and the tail, without regrowing
    }
    use_ = payload_use::gather;
    return std::nullopt;
  }
  // A plain message's frame: the parser sees it as it came.
  if (opcode != continuation) {
    message_ = frame_fin_ ? message::none : message::plain;
  } else if (frame_fin_) {
    message_ = message::none;
  }
  pass();
  return std::nullopt;
}

std::optional<inflating_frame_reader::failure> inflating_frame_reader::on_frame_end(
    std::string& out) {
  if (use_ != payload_use::gather || !frame_fin_) {
    return std::nullopt;
  }
  message_ = message::none;
  use_ = payload_use::pass;
  compressed_.append("\x00\x00\xff\xff", 4);  // the tail the sender removed
  thread_local std::string inflated;
  inflated.clear();
  const inflate_result result = inflate_message(compressed_, max_message_bytes_, inflated);
  compressed_.clear();
  if (compressed_.capacity() > kept_capacity) {
    std::string().swap(compressed_);
  }
  if (result == inflate_result::too_big) {
    return fail(message_too_big, "message too big");
  }
  if (result == inflate_result::corrupt) {
    return fail(invalid_payload, "invalid compressed data");
  }
  if (result == inflate_result::no_memory) {
    return fail(internal_error, "out of memory");
  }
  append_inflated_frame(out, compressed_opcode_, inflated);
  if (inflated.capacity() > kept_capacity) {
    std::string().swap(inflated);
  }
  return std::nullopt;
}

}  // namespace herald::core
