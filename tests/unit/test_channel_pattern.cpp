// core::channel_pattern: gobwas/glob patterns without separators, as
// Centrifugo's `channels` survey compiles them.

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "herald/core/channel_pattern.hpp"

namespace {

bool matches(std::string_view pattern, std::string_view channel) {
  INFO("pattern: " << pattern << ", channel: " << channel);
  REQUIRE(herald::core::channel_pattern::compile(pattern).has_value());
  return herald::core::channel_matches(pattern, channel);
}

}  // namespace

TEST_CASE("channel patterns: wildcards", "[channel_pattern]") {
  CHECK(matches("*", ""));
  CHECK(matches("*", "anything:at/all"));
  CHECK(matches("news:*", "news:"));
  CHECK(matches("news:*", "news:sport"));
  CHECK_FALSE(matches("news:*", "new:sport"));
  CHECK(matches("*:*", "a:b:c"));  // no separators: `*` crosses ':' and '/'
  CHECK(matches("**", "a/b"));
  CHECK(matches("a*b*c", "abc"));
  CHECK(matches("a*b*c", "a__b__b__c"));
  CHECK_FALSE(matches("a*b*c", "a__b__c_"));
  CHECK(matches("user?", "user1"));
  CHECK_FALSE(matches("user?", "user"));
  CHECK_FALSE(matches("user?", "user12"));
  CHECK(matches("?", "\xc3\xa9"));  // one code point, two bytes
  CHECK_FALSE(matches("??", "\xc3\xa9"));
  CHECK(matches("exact", "exact"));
  CHECK_FALSE(matches("exact", "exactly"));
  CHECK(herald::core::channel_matches("", "anything"));  // "" is no filter
}

TEST_CASE("channel patterns: classes, alternatives, escapes", "[channel_pattern]") {
  CHECK(matches("[abc]1", "b1"));
  CHECK_FALSE(matches("[abc]1", "d1"));
  CHECK(matches("[!abc]1", "d1"));
  CHECK_FALSE(matches("[!abc]1", "a1"));
  CHECK(matches("v[0-9]", "v7"));
  CHECK_FALSE(matches("v[0-9]", "vx"));
  CHECK(matches("v[!0-9]", "vx"));
  CHECK(matches("[ab-c]", "-"));  // a list: ranges stand alone
  CHECK(matches("[\\]]", "]"));
  CHECK(matches("[]-a]", "_"));  // a range from ']' to 'a', as gobwas lexes it
  CHECK(matches("[!!]", "x"));
  CHECK(
      matches("[\xc3\xa9"
              "e]",
              "\xc3\xa9"));
  CHECK(matches("{news,chat}:*", "chat:1"));
  CHECK_FALSE(matches("{news,chat}:*", "feed:1"));
  CHECK(matches("a{b,{c,d}e}f", "adef"));
  CHECK_FALSE(matches("a{b,{c,d}e}f", "adf"));
  CHECK(matches("a{,b}c", "ac"));
  CHECK(matches("a{}c", "ac"));
  CHECK(matches("\\*", "*"));
  CHECK_FALSE(matches("\\*", "x"));
  CHECK(matches("a,b}", "a,b}"));  // ',' and '}' are plain outside `{..}`
  CHECK(matches("a]", "a]"));
  CHECK(matches("{a\\,b,c}", "a,b"));
}

TEST_CASE("channel patterns gobwas rejects do not compile", "[channel_pattern]") {
  for (std::string_view pattern : {"[", "[]", "[!]", "[a", "[a-", "[a-b", "[z-a]", "[a-cx]", "ab\\",
                                   "[\\", "{a", "{a,b", "a{b{c}"}) {
    INFO("pattern: " << pattern);
    CHECK_FALSE(herald::core::channel_pattern::compile(pattern));
    CHECK_FALSE(herald::core::channel_matches(pattern, "a"));
  }
}

TEST_CASE("channel pattern matching stays linear in the channel", "[channel_pattern]") {
  // Exponential for a backtracking matcher: 20 stars against 255 bytes.
  std::string pattern;
  for (int i = 0; i < 20; ++i) {
    pattern += "*a";
  }
  pattern += "b";
  const auto compiled = herald::core::channel_pattern::compile(pattern);
  REQUIRE(compiled);
  const auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(compiled->matches(std::string(255, 'a')));
  CHECK(compiled->matches(std::string(254, 'a') + "b"));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

TEST_CASE("a run of stars is one star", "[channel_pattern]") {
  const std::string stars(20000, '*');
  CHECK(matches(stars, "anything"));
  CHECK(matches("a" + stars + "b", "a-long-middle-b"));
  CHECK_FALSE(matches("a" + stars + "b", "a-long-middle-c"));
  CHECK(matches("***", ""));
}
