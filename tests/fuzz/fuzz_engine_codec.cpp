// libFuzzer target: what arrives from Redis, through the engine's decoders
// (pub/sub messages, control messages, presence entries). Whatever another
// node or a tampered Redis sends, decoding never crashes, and what decodes
// encodes back to a message that decodes to the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "herald/core/engine_codec.hpp"

namespace {

void require(bool holds) {
  if (!holds) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace herald::core;
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  if (auto message = decode_engine_message(input)) {
    if (auto* change = std::get_if<engine_presence_change>(&*message)) {
      auto again = decode_engine_message(encode_presence_change(*change));
      require(again && std::get<engine_presence_change>(*again).info == change->info);
    } else {
      const auto& item = std::get<engine_publication>(*message);
      auto again = decode_publication_payload(encode_publication_payload(*item.publication));
      require(again && (*again)->data == item.publication->data);
    }
  }
  if (auto control = decode_control_message(input)) {
    require(encode_control_message(*control) == input);
  }
  if (auto info = decode_client_info(input)) {
    require(encode_client_info(*info) == input);
  }
  return 0;
}
