// libFuzzer target: a client-protocol text frame through decode_frame. No
// input may crash it, and every decoded channel must respect the 255-byte
// limit unless the command was answered with an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "herald/core/client_protocol.hpp"

namespace cp = herald::core::client_protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame{reinterpret_cast<const char*>(data), size};
  const cp::frame_decode_result result = cp::decode_frame(frame);
  for (const auto& item : result.items) {
    if (const auto* command = std::get_if<cp::command>(&item)) {
      if (const auto* subscribe = std::get_if<cp::subscribe_request>(&command->body)) {
        if (subscribe->channel.empty() || subscribe->channel.size() > cp::max_channel_bytes) {
          std::abort();
        }
      }
    }
  }
  return 0;
}
