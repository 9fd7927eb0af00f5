#pragma once

#include <cstdint>
#include <string>

namespace herald::core {

// Where a channel's publication stream stands: the offset of its newest
// publication (0 before the first) and the epoch that names this incarnation
// of the stream. A client that saw `offset` of stream `epoch` can ask for what
// came after; an epoch it does not know means the stream was lost (a restart,
// or meta expiry) and its offsets started again. Shared by the history and
// the client protocol's subscribe and history commands.
struct stream_position {
  std::uint64_t offset = 0;
  std::string epoch;
};

inline bool operator==(const stream_position& a, const stream_position& b) {
  return a.offset == b.offset && a.epoch == b.epoch;
}

inline bool operator!=(const stream_position& a, const stream_position& b) {
  return !(a == b);
}

}  // namespace herald::core
