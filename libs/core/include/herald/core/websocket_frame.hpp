#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace herald::core {

// Frames a server-to-client text message: FIN set, opcode 1, no mask.
// A server never masks (RFC 6455 section 5.1), so these bytes are the same
// for every subscriber, and a publication is framed once, not once per
// socket. `payload` must be valid UTF-8 (the caller's encoder guarantees it).
std::string encode_text_frame(std::string_view payload);

// Size of the header encode_text_frame puts before a payload of this size.
std::size_t text_frame_header_size(std::size_t payload_size);

}  // namespace herald::core
