#pragma once

#include <algorithm>
#include <cstddef>

namespace herald::net {

// Asks the CPU to start loading the cache lines of [start, start + bytes),
// at most `max_lines` of them: a hint for memory about to be read, which
// changes no result.
inline void prefetch_lines(const void* start, std::size_t bytes,
                           std::size_t max_lines = 8) noexcept {
  constexpr std::size_t line = 64;
  const char* first = static_cast<const char*>(start);
  const std::size_t lines = std::min(max_lines, (bytes + line - 1) / line);
  for (std::size_t i = 0; i < lines; ++i) {
    __builtin_prefetch(first + i * line);
  }
}

}  // namespace herald::net
