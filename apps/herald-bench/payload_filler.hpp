#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace herald::bench {

// What pads a message after its stamp up to --size. The padding decides how
// well a message compresses, so a run with --compression needs one that
// compresses like real traffic does: a run of 'x' shrinks to almost nothing
// and would make permessage-deflate look far better than it is.
enum class payload_filler : std::uint8_t {
  x,       // 'x' repeated: the default, and the bench's behaviour before --filler
  ticker,  // market-data-like records, different in every publication
};

// --filler's names ("x", "ticker"); false for any other.
bool parse_filler(std::string_view name, payload_filler& filler);
std::string_view filler_name(payload_filler filler);

// Appends exactly `bytes` bytes of `filler`. Plain printable ASCII without
// '"' or '\\', so that every server echoes it byte for byte inside a JSON
// string. `seed` picks the ticker's figures (the x filler ignores it): the
// same seed gives the same text.
void append_filler(std::string& out, std::size_t bytes, payload_filler filler, std::uint64_t seed);

}  // namespace herald::bench
