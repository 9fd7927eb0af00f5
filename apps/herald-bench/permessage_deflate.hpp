#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald::bench {

// The bench's side of negotiating permessage-deflate (RFC 7692 section 5),
// for --compression. The bench only inflates: its own frames go out
// uncompressed, which the extension allows, so the offer asks for nothing
// about the client's compression and the server's answer is read for what
// it says about the server's.

// The offer every connection's upgrade request carries. client_max_window_bits
// tells the server it may ask for a smaller client window, which costs
// nothing to a client that never compresses; some servers (Node's ws among
// them) accept an offer more readily with it.
inline constexpr std::string_view permessage_deflate_offer =
    "permessage-deflate; client_max_window_bits";

// What the server's 101 accepted.
struct deflate_agreement {
  // The server starts every message from an empty LZ77 window, so the
  // client's inflater may start every message afresh too. Without it (Node's
  // ws by default) a message may refer to the bytes of earlier ones, and the
  // inflater must keep its window for the whole connection.
  bool server_no_context_takeover = false;
  // About the client's compression, which the bench never uses: read only
  // to check the response.
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;
  int client_max_window_bits = 15;
};

// Reads one Sec-WebSocket-Extensions value of a response to
// permessage_deflate_offer (a response may carry several such headers: call
// this once per header, with the same `agreement`). Sets `agreement` when
// the value accepts permessage-deflate. False, with `reason`, for an answer
// RFC 7692 tells the client to fail the connection over: an extension that
// was not offered, permessage-deflate twice, a parameter that is unknown,
// repeated or out of range.
bool read_extensions_response(std::string_view value, std::optional<deflate_agreement>& agreement,
                              std::string& reason);

}  // namespace herald::bench
