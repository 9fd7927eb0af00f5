#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "payload_filler.hpp"

namespace herald::bench {

// What a publisher writes into each message and a receiver reads back.
struct publication_stamp {
  std::uint32_t publisher = 0;  // index among this run's publishers
  std::uint64_t seq = 0;        // per publisher, from 0
  std::int64_t sent_ns = 0;     // CLOCK_MONOTONIC when the frame was encoded
};

// Appends "<publisher> <seq> <sent_ns>" padded with `filler` to `size` bytes
// (the stamp alone if it is longer). Plain ASCII on purpose: no protocol has
// to escape it, so every server echoes it byte for byte. The ticker filler
// is seeded by the stamp's publisher and seq, so every publication differs.
void append_payload(std::string& out, const publication_stamp& stamp, std::size_t size,
                    payload_filler filler);

// Reads the stamp at the start of `text` (the padding and anything after it
// are ignored). False if `text` does not start with three decimal numbers
// separated by single spaces.
bool parse_payload(std::string_view text, publication_stamp& stamp);

}  // namespace herald::bench
