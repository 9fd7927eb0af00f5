#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "herald/core/frame.hpp"

namespace herald::core {

// Frames a server-to-client text message: FIN set, opcode 1, no mask.
// A server never masks (RFC 6455 section 5.1), so these bytes are the same
// for every subscriber, and a publication is framed once, not once per
// socket. `payload` must be valid UTF-8 (the caller's encoder guarantees it).
std::string encode_text_frame(std::string_view payload);

// A batch of one text frame holding `payload`; `channel` tags client-protocol
// pushes (see frame_batch::channel), empty for replies.
frame_batch_ptr make_text_batch(std::string_view payload, std::string channel = {});

// A text frame whose payload `append` writes, with its header: for a large
// payload (`at_least`, a lower bound of its size, says so) the payload is
// written once, after room left for the header, instead of made and then
// copied into a frame.
std::string encode_text_frame_of(std::size_t at_least,
                                 const std::function<void(std::string&)>& append);

// Size of the header encode_text_frame puts before a payload of this size.
std::size_t text_frame_header_size(std::size_t payload_size);

// Whether an upgrade's Sec-WebSocket-Key is what RFC 6455 4.2.1 asks: base64
// of 16 bytes (24 characters, the last two '='). Beast accepts any value up
// to 24 characters.
bool is_valid_websocket_key(std::string_view key);

}  // namespace herald::core
