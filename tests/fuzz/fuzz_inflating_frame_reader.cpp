// libFuzzer target: a client's bytes through the permessage-deflate read
// side (inflating_frame_reader), with max-message-bytes 4096. Read whole and
// read in pieces (sizes taken from the input itself), the output and the
// first failure must be the same: how TCP cuts the stream changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "herald/core/inflating_frame_reader.hpp"

namespace {

using herald::core::inflating_frame_reader;

struct outcome {
  std::string out;
  std::optional<std::uint16_t> code;
};

outcome read_in_pieces(std::string_view input, std::size_t seed) {
  inflating_frame_reader reader(4096);
  outcome result;
  std::size_t at = 0;
  std::size_t step = seed;
  while (at < input.size()) {
    step = (step * 31 + 7) % 97 + 1;  // 1..97 bytes a read
    const std::size_t size = std::min(step, input.size() - at);
    const auto failure = reader.read(input.substr(at, size), result.out);
    if (failure && !result.code) {
      result.code = failure->code;
    }
    at += size;
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  inflating_frame_reader whole_reader(4096);
  outcome whole;
  if (const auto failure = whole_reader.read(input, whole.out)) {
    whole.code = failure->code;
  }
  if (whole.code && *whole.code != 1002 && *whole.code != 1007 && *whole.code != 1009) {
    std::abort();
  }
  const outcome pieces = read_in_pieces(input, size > 0 ? data[0] : 0);
  if (pieces.out != whole.out || pieces.code != whole.code) {
    std::abort();
  }
  return 0;
}
