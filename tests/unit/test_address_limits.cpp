#include <catch2/catch.hpp>

#include <chrono>

#include "herald/core/address_limits.hpp"

using herald::core::address_limits;
using verdict = address_limits::verdict;
using namespace std::chrono_literals;

namespace {
const address_limits::clock::time_point start{};
}  // namespace

TEST_CASE("connections per address are capped and freed on release", "[address_limits]") {
  address_limits limits{2, 0};
  CHECK(limits.admit("10.0.0.1", start) == verdict::admitted);
  CHECK(limits.admit("10.0.0.1", start) == verdict::admitted);
  CHECK(limits.admit("10.0.0.1", start) == verdict::too_many);
  CHECK(limits.admit("10.0.0.2", start) == verdict::admitted);  // each address its own
  limits.release("10.0.0.1", start);
  CHECK(limits.admit("10.0.0.1", start) == verdict::admitted);
  limits.release("10.0.0.1", start);
  limits.release("10.0.0.1", start);
  limits.release("10.0.0.2", start);
  CHECK(limits.tracked() == 0);  // nothing held, nothing remembered
}

TEST_CASE("upgrades per second per address come in bursts of the rate", "[address_limits]") {
  address_limits limits{0, 3};
  for (int i = 0; i < 3; ++i) {
    CHECK(limits.admit("a", start) == verdict::admitted);
  }
  CHECK(limits.admit("a", start) == verdict::too_fast);
  CHECK(limits.admit("b", start) == verdict::admitted);
  // A third of a second gives one token back.
  CHECK(limits.admit("a", start + 340ms) == verdict::admitted);
  CHECK(limits.admit("a", start + 340ms) == verdict::too_fast);
  // Releasing a connection gives no token back: the rate counts upgrades.
  limits.release("a", start + 340ms);
  CHECK(limits.admit("a", start + 340ms) == verdict::too_fast);
  // A full second refills the bucket, never beyond the burst.
  for (int i = 0; i < 3; ++i) {
    CHECK(limits.admit("a", start + 10s) == verdict::admitted);
  }
  CHECK(limits.admit("a", start + 10s) == verdict::too_fast);
}

TEST_CASE("an address whose bucket is still refilling is remembered", "[address_limits]") {
  address_limits limits{0, 2};
  CHECK(limits.admit("a", start) == verdict::admitted);
  limits.release("a", start);
  CHECK(limits.tracked() == 1);  // forgetting it would hand it a full bucket
  CHECK(limits.admit("a", start + 2s) == verdict::admitted);
  limits.release("a", start + 4s);
  CHECK(limits.tracked() == 0);  // refilled by then: nothing to remember
}

TEST_CASE("addresses that came once are pruned", "[address_limits]") {
  address_limits limits{0, 1};
  for (int i = 0; i < 1000; ++i) {
    CHECK(limits.admit("10.1." + std::to_string(i), start) == verdict::admitted);
  }
  CHECK(limits.tracked() == 1000);  // their connections are still open
  for (int i = 0; i < 1000; ++i) {
    limits.release("10.1." + std::to_string(i), start);
  }
  // Released with empty buckets: kept until refilled, then pruned by a
  // later admission.
  for (int i = 0; i < 1100; ++i) {
    limits.admit("10.2." + std::to_string(i), start + 5s);
  }
  CHECK(limits.tracked() <= 1100);
}

TEST_CASE("with both limits off every connection is admitted and nothing kept",
          "[address_limits]") {
  address_limits limits{0, 0};
  CHECK_FALSE(limits.enabled());
  for (int i = 0; i < 100; ++i) {
    CHECK(limits.admit("a", start) == verdict::admitted);
  }
  CHECK(limits.tracked() == 0);
}
