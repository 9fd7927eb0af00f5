#include "herald/core/shard_hash.hpp"

#include <cassert>

namespace herald::core {

std::uint64_t fnv1a_64(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

std::uint32_t jump_consistent_hash(std::uint64_t key, std::uint32_t buckets) {
  // Every caller knows its shard count, which the settings keep at 1 or more.
  assert(buckets >= 1 && "a hash over no buckets");
  std::int64_t bucket = -1;
  std::int64_t next = 0;
  while (next < static_cast<std::int64_t>(buckets)) {
    bucket = next;
    key = key * 2862933555777941757ull + 1;
    next = static_cast<std::int64_t>(
        static_cast<double>(bucket + 1) *
        (static_cast<double>(1ll << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::uint32_t>(bucket);
}

}  // namespace herald::core
