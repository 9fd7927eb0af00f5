#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "herald/core/redis_keys.hpp"
#include "herald/core/shard_hash.hpp"

using namespace herald::core;

TEST_CASE("fnv1a_64 gives the reference values", "[shard]") {
  CHECK(fnv1a_64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a_64("a") == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a_64("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("jump_consistent_hash gives go-jump's reference values", "[shard]") {
  CHECK(jump_consistent_hash(1, 1) == 0);
  CHECK(jump_consistent_hash(42, 57) == 43);
  CHECK(jump_consistent_hash(0xDEAD10CC, 1) == 0);
  CHECK(jump_consistent_hash(0xDEAD10CC, 666) == 361);
  CHECK(jump_consistent_hash(256, 1024) == 520);
}

TEST_CASE("shard_of spreads channels and moves few when a shard is added", "[shard]") {
  CHECK(shard_of("a", 2) == 1);
  CHECK(shard_of("a", 3) == 2);
  CHECK(shard_of("chat", 5) == 4);
  CHECK(shard_of("anything", 1) == 0);
  CHECK(shard_of("anything", 0) == 0);
  std::vector<int> per_shard(4);
  int moved = 0;
  const int channels = 4000;
  for (int i = 0; i < channels; ++i) {
    const std::string channel = "news:" + std::to_string(i);
    const std::size_t three = shard_of(channel, 3);
    const std::size_t four = shard_of(channel, 4);
    ++per_shard[four];
    if (three != four) {
      ++moved;
      CHECK(four == 3);  // a channel moves only to the new shard
    }
  }
  for (int count : per_shard) {
    CHECK(count > channels / 4 * 8 / 10);
    CHECK(count < channels / 4 * 12 / 10);
  }
  CHECK(moved > channels / 4 * 8 / 10);
  CHECK(moved < channels / 4 * 12 / 10);
}

TEST_CASE("redis_keys lay channels out under the prefix", "[redis]") {
  const redis_keys keys{"herald"};
  CHECK(keys.stream("chat") == "herald.stream.chat");
  CHECK(keys.stream_meta("chat") == "herald.meta.chat");
  // A channel named meta.X has a stream that is not X's meta.
  CHECK(keys.stream("meta.chat") != keys.stream_meta("chat"));
  CHECK(keys.pubsub("news:1") == "herald.client.news:1");
  CHECK(keys.presence_data("c") == "herald.presence.data.c");
  CHECK(keys.presence_expire("c") == "herald.presence.expire.c");
  CHECK(keys.presence_users("c") == "herald.presence.user.c");
  CHECK(keys.control() == "herald.control");
  CHECK(keys.channel_of_pubsub("herald.client.news:1") ==
        std::optional<std::string_view>{"news:1"});
  CHECK(keys.channel_of_pubsub("herald.client.") == std::optional<std::string_view>{""});
  CHECK_FALSE(keys.channel_of_pubsub("other.client.news"));
  CHECK_FALSE(keys.channel_of_pubsub("herald.control"));
  CHECK_FALSE(keys.channel_of_pubsub("herald"));
}
