// libFuzzer target: a /ws client's text frame through the seed decoder, and
// a decoded message back through the encoder, which must give valid JSON
// that decodes to the same message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "herald/core/seed_codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view frame{reinterpret_cast<const char*>(data), size};
  const auto decoded = herald::core::decode_seed_frame(frame);
  if (decoded.ok) {
    const auto again =
        herald::core::decode_seed_frame(herald::core::encode_seed_message(decoded.message));
    if (!again.ok || again.message != decoded.message) {
      std::abort();  // the encoder's output must round-trip
    }
  }
  return 0;
}
