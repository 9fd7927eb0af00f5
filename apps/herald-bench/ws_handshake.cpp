#include "ws_handshake.hpp"

#include <random>

#include "http_text.hpp"
#include "sha1.hpp"

namespace herald::bench {

namespace {

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

}  // namespace

std::string base64_encode(const unsigned char* data, std::size_t size) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    std::uint32_t group = std::uint32_t{data[i]} << 16;
    if (i + 1 < size) {
      group |= std::uint32_t{data[i + 1]} << 8;
    }
    if (i + 2 < size) {
      group |= data[i + 2];
    }
    out += alphabet[(group >> 18) & 63];
    out += alphabet[(group >> 12) & 63];
    out += i + 1 < size ? alphabet[(group >> 6) & 63] : '=';
    out += i + 2 < size ? alphabet[group & 63] : '=';
  }
  return out;
}

ws_handshake::ws_handshake(std::string_view host_header, std::string_view path,
                           bool offer_permessage_deflate)
    : offers_permessage_deflate_(offer_permessage_deflate) {
  unsigned char nonce[16];
  std::random_device random;
  for (unsigned char& byte : nonce) {
    byte = static_cast<unsigned char>(random());
  }
  std::string key = base64_encode(nonce, sizeof nonce);
  auto digest = sha1(key + std::string(websocket_guid));
  expected_accept_ = base64_encode(digest.data(), digest.size());

  request_.append("GET ").append(path).append(" HTTP/1.1\r\n");
  request_.append("Host: ").append(host_header).append("\r\n");
  request_.append("Upgrade: websocket\r\nConnection: Upgrade\r\n");
  request_.append("Sec-WebSocket-Key: ").append(key).append("\r\n");
  if (offer_permessage_deflate) {
    request_.append("Sec-WebSocket-Extensions: ").append(permessage_deflate_offer).append("\r\n");
  }
  request_.append("Sec-WebSocket-Version: 13\r\n\r\n");
}

ws_handshake::result ws_handshake::check_response(std::string_view received,
                                                  std::size_t& header_bytes, std::string& reason,
                                                  std::optional<deflate_agreement>& deflate) const {
  deflate.reset();
  std::size_t end = received.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (received.size() > max_response_bytes) {
      reason = "response head over 8 KiB";
      return result::rejected;
    }
    return result::incomplete;
  }
  header_bytes = end + 4;
  std::string_view head = received.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 101 Switching Protocols": the code is the second word.
  std::size_t space = status_line.find(' ');
  if (space == std::string_view::npos || status_line.substr(space + 1, 3) != "101") {
    reason = "HTTP status: " + std::string(status_line);
    return result::rejected;
  }
  bool accept_matches = false;
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    std::string_view line = head.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    std::string_view name = trim(line.substr(0, colon));
    if (equals_ignoring_case(name, "Sec-WebSocket-Accept")) {
      accept_matches = trim(line.substr(colon + 1)) == expected_accept_;
    } else if (offers_permessage_deflate_ &&
               equals_ignoring_case(name, "Sec-WebSocket-Extensions")) {
      // Read only after an offer. Without one the header is ignored, as it
      // always was: a server that compresses unasked sends frames with RSV1,
      // which fail the connection as invalid.
      if (!read_extensions_response(trim(line.substr(colon + 1)), deflate, reason)) {
        deflate.reset();
        return result::rejected;
      }
    }
  }
  if (!accept_matches) {
    reason = "missing or wrong Sec-WebSocket-Accept";
    deflate.reset();
    return result::rejected;
  }
  if (offers_permessage_deflate_ && !deflate) {
    reason = "server declined permessage-deflate";
    return result::rejected;
  }
  return result::accepted;
}

}  // namespace herald::bench
