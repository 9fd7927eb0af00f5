#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace herald::core {

// WebSocket close codes that the seed (/ws) protocol uses (RFC 6455 7.4.1).
enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  unsupported_data = 1003,
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
};

// Outcome of decoding one text frame from a /ws client. On success `message`
// holds the string to publish; otherwise `reason` is a short close reason and
// the connection must be closed with close_code::invalid_payload.
struct seed_decode_result {
  bool ok = false;
  std::string message;
  std::string reason;
};

// Decodes `{"message": "..."}`; any other member is ignored.
seed_decode_result decode_seed_frame(std::string_view frame);

// Encodes what every /ws subscriber receives for a message from a /ws client.
std::string encode_seed_message(std::string_view message);

// Encodes a publication's `data` from another source for /ws subscribers.
std::string encode_seed_data(const boost::json::value& data);

}  // namespace herald::core
