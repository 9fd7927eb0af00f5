#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::core {

// The read side of permessage-deflate, placed under a WebSocket parser that
// knows nothing of the extension (Beast's, with its own permessage-deflate
// off, since that keeps a zlib stream per connection). It reads the bytes a
// client sent, frame by frame, and gives the parser the same stream with
// each compressed message replaced by its inflated form: one masked frame
// (the mask key zero) with FIN set, RSV1 clear and the message's opcode.
// Everything else passes through as it came, for the parser to judge:
// control frames (also between a compressed message's fragments), plain
// messages, and frames that break RFC 6455 on their own (an unmasked frame,
// RSV2 or RSV3, a reserved opcode, RSV1 on a plain message's continuation).
//
// What only this layer can see ends the connection with a close code
// (RFC 7692 6.1 and 8): RSV1 on a continuation frame of a compressed
// message or a new data frame inside one (1002), data that is not DEFLATE
// (1007), a message that inflates, or arrives compressed, past
// max_message_bytes (1009). Inflating stops at that bound: a message made
// to inflate without end costs max_message_bytes of work.
//
// Holds no zlib state: a compressed message is gathered whole, then
// inflated with the thread's inflater (see inflate_message).
class inflating_frame_reader {
 public:
  struct failure {
    std::uint16_t code;
    std::string_view reason;
  };

  explicit inflating_frame_reader(std::size_t max_message_bytes);

  // Reads `input`, the next bytes off the socket, appending to `out` what
  // the parser is to read in their place. Returns a failure the first time
  // the client breaks the extension's rules; from then on its data frames
  // are dropped, and only control frames (its close) pass.
  std::optional<failure> read(std::string_view input, std::string& out);

  // At a frame boundary outside any message, and never failed: a fresh
  // reader would read on the same.
  bool between_messages() const {
    return stage_ == stage::header && header_have_ == 0 && message_ == message::none && !failed_;
  }

 private:
  enum class stage : std::uint8_t { header, payload };
  enum class payload_use : std::uint8_t { pass, gather, drop };
  enum class message : std::uint8_t { none, plain, compressed };

  std::optional<failure> on_header(std::string& out);
  std::optional<failure> on_frame_end(std::string& out);
  std::optional<failure> fail(std::uint16_t code, std::string_view reason);

  std::string compressed_;  // the compressed message being gathered, unmasked
  std::uint64_t max_message_bytes_;
  std::uint64_t payload_left_ = 0;  // of the current frame
  std::uint64_t payload_seen_ = 0;  // of the current frame: where the mask key is
  std::array<unsigned char, 14> header_{};
  std::array<unsigned char, 4> mask_{};
  std::uint8_t header_have_ = 0;
  std::uint8_t compressed_opcode_ = 0;  // text or binary
  bool frame_fin_ = false;
  bool failed_ = false;
  stage stage_ = stage::header;
  payload_use use_ = payload_use::pass;
  message message_ = message::none;
};

}  // namespace herald::core
