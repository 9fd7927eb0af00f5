#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "herald/log/log.hpp"
#include "herald/log/rate_limit.hpp"

using herald::log::line_limit;
using herald::log::token_bucket;
using namespace std::chrono_literals;

namespace {

const token_bucket::clock::time_point t0 = token_bucket::clock::time_point{} + 1h;

int taken(token_bucket& bucket, token_bucket::clock::time_point at, int tries) {
  int count = 0;
  for (int i = 0; i < tries; ++i) {
    count += bucket.take(at) ? 1 : 0;
  }
  return count;
}

}  // namespace

TEST_CASE("a token bucket lets a burst through, then its rate", "[log][rate_limit]") {
  token_bucket bucket{10, 20};
  CHECK(taken(bucket, t0, 100) == 20);
  CHECK(taken(bucket, t0 + 50ms, 100) == 0);  // half a token
  CHECK(taken(bucket, t0 + 100ms, 100) == 1);
  CHECK(taken(bucket, t0 + 1100ms, 100) == 10);  // one second: ten
}

TEST_CASE("a token bucket holds no more than its burst however long it idles",
          "[log][rate_limit]") {
  token_bucket bucket{10, 20};
  CHECK(taken(bucket, t0, 5) == 5);
  CHECK(taken(bucket, t0 + 1h, 1000) == 20);
}

TEST_CASE("a token bucket ignores time going backwards", "[log][rate_limit]") {
  token_bucket bucket{10, 2};
  CHECK(taken(bucket, t0, 5) == 2);
  CHECK(taken(bucket, t0 - 10s, 5) == 0);  // neither refills nor breaks
  CHECK(taken(bucket, t0 + 100ms, 5) == 1);
}

TEST_CASE("a line limit counts the lines it drops and reports them on the next one",
          "[log][rate_limit]") {
  line_limit limit{10, 20};
  const std::uint64_t dropped_at_start = herald::log::lines_dropped();
  std::uint64_t dropped_before = 99;
  for (int i = 0; i < 20; ++i) {
    REQUIRE(limit.admit(t0, dropped_before));
    CHECK(dropped_before == 0);
  }
  for (int i = 0; i < 30; ++i) {
    CHECK_FALSE(limit.admit(t0, dropped_before));
  }
  CHECK(herald::log::lines_dropped() - dropped_at_start == 30);
  REQUIRE(limit.admit(t0 + 100ms, dropped_before));
  CHECK(dropped_before == 30);
  REQUIRE(limit.admit(t0 + 200ms, dropped_before));
  CHECK(dropped_before == 0);
}

TEST_CASE("a line limit shared by threads admits no more than its budget", "[log][rate_limit]") {
  // A rate too low to refill while the test runs: the burst is all.
  line_limit limit{0.001, 20};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        std::uint64_t dropped_before = 0;
        if (limit.admit(dropped_before)) {
          admitted.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(admitted.load() == 20);
}
