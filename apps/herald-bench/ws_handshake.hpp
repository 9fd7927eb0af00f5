#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "permessage_deflate.hpp"

namespace herald::bench {

// The client side of the HTTP/1.1 upgrade (RFC 6455 section 4.1). One key
// serves every connection of a run: the key only proves that the server read
// this request, and computing one accept value per run keeps a 20,000
// connection ramp free of hashing.
class ws_handshake {
 public:
  // `host_header` is the URL's host[:port], `path` the request target.
  // `offer_permessage_deflate` (--compression): the request offers
  // permessage-deflate, and a response that does not accept it is rejected.
  ws_handshake(std::string_view host_header, std::string_view path, bool offer_permessage_deflate);

  // The complete request, sent as is by every connection.
  const std::string& request() const { return request_; }

  enum class result { incomplete, accepted, rejected };

  // Looks at the bytes received so far. `accepted` and `rejected` set
  // `header_bytes` to the length of the response head, so that frames the
  // server sent right behind it are not lost; `reason` explains a rejection.
  // `accepted` sets `deflate` to what the server agreed to when
  // permessage-deflate was offered (it always is then), else leaves it empty.
  result check_response(std::string_view received, std::size_t& header_bytes, std::string& reason,
                        std::optional<deflate_agreement>& deflate) const;

  // Responses bigger than this are refused rather than buffered forever.
  static constexpr std::size_t max_response_bytes = 8192;

 private:
  std::string request_;
  std::string expected_accept_;
  bool offers_permessage_deflate_;
};

// Standard base64 with padding (the handshake's only encoding).
std::string base64_encode(const unsigned char* data, std::size_t size);

}  // namespace herald::bench
