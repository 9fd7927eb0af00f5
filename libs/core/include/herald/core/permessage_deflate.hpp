#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "herald/core/frame.hpp"

namespace herald::core {

// permessage-deflate (RFC 7692) as Herald speaks it: every message is
// compressed on its own, in both directions (server_no_context_takeover and
// client_no_context_takeover), so that
//  - a publication is compressed once and the same bytes go to every
//    subscriber that negotiated the extension, and
//  - no connection keeps a zlib stream between messages: each I/O thread has
//    one deflater and one inflater, reset for every message.

// The Sec-WebSocket-Extensions value that accepts permessage-deflate, when
// the upgrade's (several header lines joined with ",") offers it in a form
// Herald accepts: the first acceptable offer wins (RFC 7692 5); nullopt
// when none is. The answer is always "permessage-deflate;
// server_no_context_takeover; client_no_context_takeover", with
// "; server_max_window_bits=15" when the offer named it. Declined: an offer
// with an unknown or repeated parameter or a bad value, and
// server_max_window_bits under 15 (Herald compresses with the full 32 KiB
// window, once for every subscriber). client_max_window_bits is accepted
// with or without a value: the inflater takes any window. A header that is
// not a valid extension list declines everything.
std::optional<std::string_view> accept_deflate_offer(std::string_view extensions);

// What a connection that negotiated the extension gets compressed.
struct compression_options {
  std::size_t min_bytes = 512;  // smaller messages go as they are
  int level = 6;                // zlib's 1 (fastest) to 9 (smallest)
};

// The frame compressed: same FIN and opcode, RSV1 set, the payload deflated
// as one message without context takeover (RFC 7692 7.2.1: flushed, its
// 00 00 ff ff tail removed). Null when the frame is not worth it: a control
// frame, a payload under min_bytes, or one that does not shrink. `frame` is
// a server frame (unmasked, one of ours).
frame_ptr deflate_frame(std::string_view frame, const compression_options& options);

// The batch as a connection that negotiated the extension is sent it: its
// frames through deflate_frame, compressed once, on first need, whichever
// thread needs it first, then shared by every such connection. The batch
// itself when no frame is worth compressing.
frame_batch_ptr deflated(const frame_batch_ptr& batch, const compression_options& options);

enum class inflate_result { ok, too_big, corrupt, no_memory };

// Inflates one compressed message (its payload with the 00 00 ff ff tail
// put back), appending at most `limit` bytes to `out`: too_big as soon as
// more would come, so a message that inflates without bound costs `limit`
// bytes of work; corrupt when it is not valid DEFLATE data; no_memory when
// zlib could not allocate its state.
inflate_result inflate_message(std::string_view compressed, std::size_t limit, std::string& out);

}  // namespace herald::core
