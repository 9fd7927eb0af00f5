#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace herald::core {

// FNV-1a, 64 bits, of `text`.
std::uint64_t fnv1a_64(std::string_view text);

// Lamping and Veach's jump consistent hash: the bucket in [0, buckets) of
// `key`. Going from n to n + 1 buckets moves only 1/(n + 1) of the keys.
// `buckets` must be at least 1.
std::uint32_t jump_consistent_hash(std::uint64_t key, std::uint32_t buckets);

// The Redis shard that holds `channel` among `shards` (at least 1): its
// pub/sub, history and presence. Centrifugo's choice (jump hash over FNV-1a
// 64 of the name), so that every node, whatever its order of start,
// agrees where a channel lives.
inline std::size_t shard_of(std::string_view channel, std::size_t shards) {
  return shards <= 1 ? 0
                     : jump_consistent_hash(fnv1a_64(channel), static_cast<std::uint32_t>(shards));
}

}  // namespace herald::core
