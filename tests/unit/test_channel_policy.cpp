// core::channel_policy against Centrifugo's permission model (centrifugo v5
// internal/client/handler.go and the channel permission docs): one row per
// rule, each checked on the decision as a whole.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "herald/core/channel_policy.hpp"

using herald::core::channel_namespaces;
using herald::core::channel_options;
using herald::core::channel_policy;
using herald::core::channel_read;
using herald::core::channel_refusal;
using herald::core::channel_token;
using herald::core::requester;
using herald::core::subscription_ask;

namespace {

// A policy whose top-level options are `options` and that knows one more
// namespace, "ns", with everything off.
channel_policy policy_with(channel_options options) {
  channel_namespaces namespaces{options};
  namespaces.set_namespace("ns", channel_options{});
  return channel_policy{std::make_shared<const channel_namespaces>(std::move(namespaces))};
}

channel_options with_history(channel_options options = {}) {
  options.history_size = 10;
  options.history_ttl = std::chrono::seconds{60};
  return options;
}

const requester alice{"alice"};
const requester anonymous{""};

struct subscribe_row {
  const char* rule;
  std::function<void(channel_options&)> set;
  std::string channel;
  requester who;
  channel_token token;
  channel_refusal expected;
};

}  // namespace

TEST_CASE("subscribe permissions follow Centrifugo's table", "[channel_policy]") {
  using R = channel_refusal;
  using T = channel_token;
  const auto none = [](channel_options&) {};
  const auto for_client = [](channel_options& o) { o.allow_subscribe_for_client = true; };
  const auto for_anyone = [](channel_options& o) {
    o.allow_subscribe_for_client = true;
    o.allow_subscribe_for_anonymous = true;
  };
  const auto user_limited = [](channel_options& o) { o.allow_user_limited_channels = true; };
  const subscribe_row rows[] = {
      {"everything off refuses", none, "room", alice, T::none, R::permission_denied},
      {"an unknown namespace is 102 first", for_anyone, "nope:room", alice, T::valid,
       R::unknown_channel},
      {"a configured namespace has its own options", for_anyone, "ns:room", alice, T::none,
       R::permission_denied},
      {"allow-subscribe-for-client admits a user", for_client, "room", alice, T::none, R::none},
      {"... but not an anonymous client", for_client, "room", anonymous, T::none,
       R::permission_denied},
      {"allow-subscribe-for-anonymous admits anonymous clients", for_anyone, "room", anonymous,
       T::none, R::none},
      {"anonymous alone admits nobody",
       [](channel_options& o) { o.allow_subscribe_for_anonymous = true; }, "room", anonymous,
       T::none, R::permission_denied},
      {"a private channel needs a token", for_anyone, "$room", alice, T::none,
       R::permission_denied},
      {"a valid token admits to a private channel", none, "$room", alice, T::valid, R::none},
      {"a valid token admits whatever the options", none, "room", anonymous, T::valid, R::none},
      {"an expired token is 109", for_anyone, "room", alice, T::expired, R::token_expired},
      {"an unverifiable token is 103 even where the options admit", for_anyone, "room", alice,
       T::invalid, R::permission_denied},
      {"a token for another channel or user disconnects", for_anyone, "room", alice, T::foreign,
       R::invalid_token},
      {"a user-limited channel admits its users", user_limited, "dialog#alice,bob", alice, T::none,
       R::none},
      {"... and no one else", user_limited, "dialog#carol,bob", alice, T::none,
       R::permission_denied},
      {"... not even with allow-subscribe-for-client",
       [](channel_options& o) {
         o.allow_user_limited_channels = true;
         o.allow_subscribe_for_client = true;
       },
       "dialog#carol", alice, T::none, R::permission_denied},
      {"without the option '#' is an ordinary name", for_client, "dialog#carol", alice, T::none,
       R::none},
  };
  for (const auto& row : rows) {
    INFO(row.rule);
    channel_options options;
    row.set(options);
    const auto decision =
        policy_with(options).subscribe(row.channel, row.who, subscription_ask{row.token});
    CHECK(decision.refusal == row.expected);
    CHECK(decision.allowed() == (row.expected == R::none));
  }
}

TEST_CASE("a refused subscription gets no features", "[channel_policy]") {
  channel_options options = with_history();
  options.force_recovery = true;
  options.presence = true;
  options.join_leave = true;
  options.force_push_join_leave = true;
  const auto decision = policy_with(options).subscribe("room", alice, {});
  CHECK(decision.refusal == channel_refusal::permission_denied);
  CHECK_FALSE(decision.recoverable);
  CHECK_FALSE(decision.positioned);
  CHECK_FALSE(decision.join_leave_pushes);
  CHECK_FALSE(decision.tracks_presence);
}

TEST_CASE("recovery and positions need history and a grant", "[channel_policy]") {
  subscription_ask asks_all{channel_token::valid, true, true, false};
  SECTION("without history nothing is positioned, even when forced") {
    channel_options options;
    options.force_recovery = true;
    options.force_positioning = true;
    const auto decision = policy_with(options).subscribe("room", alice, asks_all);
    CHECK(decision.allowed());
    CHECK_FALSE(decision.recoverable);
    CHECK_FALSE(decision.positioned);
  }
  SECTION("asked for, without allow-* or history access: not granted") {
    const auto decision = policy_with(with_history()).subscribe("room", alice, asks_all);
    CHECK_FALSE(decision.recoverable);
    CHECK_FALSE(decision.positioned);
  }
  SECTION("allow-recovery grants recovery, and positions with it") {
    channel_options options = with_history();
    options.allow_recovery = true;
    auto ask = asks_all;
    ask.positioned = false;
    const auto decision = policy_with(options).subscribe("room", alice, ask);
    CHECK(decision.recoverable);
    CHECK(decision.positioned);
  }
  SECTION("allow-positioning grants positions only") {
    channel_options options = with_history();
    options.allow_positioning = true;
    const auto decision = policy_with(options).subscribe("room", alice, asks_all);
    CHECK_FALSE(decision.recoverable);
    CHECK(decision.positioned);
  }
  SECTION("history access grants what is asked") {
    channel_options options = with_history();
    options.allow_history_for_subscriber = true;
    const auto decision = policy_with(options).subscribe("room", alice, asks_all);
    CHECK(decision.recoverable);
    CHECK(decision.positioned);
    // ... but history for subscribers does not reach anonymous clients
    // without allow-history-for-anonymous.
    const auto anon = policy_with(options).subscribe("room", anonymous, asks_all);
    CHECK_FALSE(anon.recoverable);
  }
  SECTION("force-* applies without being asked") {
    channel_options options = with_history();
    options.force_recovery = true;
    const auto decision = policy_with(options).subscribe("room", alice, {channel_token::valid});
    CHECK(decision.recoverable);
    CHECK(decision.positioned);
    options = with_history();
    options.force_positioning = true;
    const auto positioned = policy_with(options).subscribe("room", alice, {channel_token::valid});
    CHECK_FALSE(positioned.recoverable);
    CHECK(positioned.positioned);
  }
}

TEST_CASE("join/leave pushes go to subscribers that may read presence", "[channel_policy]") {
  channel_options options;
  options.allow_subscribe_for_client = true;
  options.join_leave = true;
  subscription_ask asks{channel_token::none, false, false, true};
  SECTION("asked for without presence access: no pushes, but the client is announced") {
    const auto decision = policy_with(options).subscribe("room", alice, asks);
    CHECK_FALSE(decision.join_leave_pushes);
    CHECK(decision.announces_join_leave);
    CHECK(decision.tracks_presence);
  }
  SECTION("asked for with presence access") {
    options.allow_presence_for_subscriber = true;
    CHECK(policy_with(options).subscribe("room", alice, asks).join_leave_pushes);
    asks.join_leave = false;
    CHECK_FALSE(policy_with(options).subscribe("room", alice, asks).join_leave_pushes);
  }
  SECTION("force-push-join-leave pushes to everyone, asked or not") {
    options.force_push_join_leave = true;
    asks.join_leave = false;
    CHECK(policy_with(options).subscribe("room", alice, asks).join_leave_pushes);
  }
  SECTION("without join-leave nothing is pushed or announced") {
    options.join_leave = false;
    options.force_push_join_leave = true;
    options.presence = true;
    const auto decision = policy_with(options).subscribe("room", alice, asks);
    CHECK_FALSE(decision.join_leave_pushes);
    CHECK_FALSE(decision.announces_join_leave);
    CHECK(decision.tracks_presence);  // presence alone records who is in
  }
}

TEST_CASE("server-side subscriptions need only a known namespace", "[channel_policy]") {
  channel_options options = with_history();
  options.force_recovery = true;
  options.join_leave = true;
  const auto policy = policy_with(options);
  const auto decision = policy.server_side_subscribe("$private");
  CHECK(decision.allowed());
  CHECK(decision.recoverable);
  CHECK_FALSE(decision.join_leave_pushes);  // nobody asked, nothing forced
  CHECK(decision.announces_join_leave);
  CHECK(policy.server_side_subscribe("nope:x").refusal == channel_refusal::unknown_channel);
}

TEST_CASE("publish, presence and history follow the *_for_* rule", "[channel_policy]") {
  using R = channel_refusal;
  channel_options options = with_history();
  options.presence = true;
  SECTION("publish") {
    options.allow_publish_for_subscriber = true;
    auto policy = policy_with(options);
    CHECK(policy.publish("room", alice, true) == R::none);
    CHECK(policy.publish("room", alice, false) == R::permission_denied);
    CHECK(policy.publish("room", anonymous, true) == R::permission_denied);
    CHECK(policy.publish("nope:room", alice, true) == R::unknown_channel);
    options.allow_publish_for_anonymous = true;
    options.allow_publish_for_client = true;
    policy = policy_with(options);
    CHECK(policy.publish("room", anonymous, false) == R::none);
  }
  SECTION("presence and history are 108 when the channel keeps none") {
    options.allow_presence_for_client = true;
    options.allow_history_for_client = true;
    CHECK(policy_with(options).read(channel_read::presence, "room", alice, false) == R::none);
    CHECK(policy_with(options).read(channel_read::history, "room", alice, false) == R::none);
    CHECK(policy_with(options).read(channel_read::presence, "ns:room", alice, false) ==
          R::not_available);
    CHECK(policy_with(options).read(channel_read::history, "ns:room", alice, false) ==
          R::not_available);
    CHECK(policy_with(options).read(channel_read::history, "nope:x", alice, false) ==
          R::unknown_channel);
  }
  SECTION("each read has its own options") {
    options.allow_presence_for_subscriber = true;
    const auto policy = policy_with(options);
    CHECK(policy.read(channel_read::presence, "room", alice, true) == R::none);
    CHECK(policy.read(channel_read::presence, "room", alice, false) == R::permission_denied);
    CHECK(policy.read(channel_read::history, "room", alice, true) == R::permission_denied);
  }
  SECTION("the server API is trusted: 102 and 108 only") {
    const auto policy = policy_with(options);
    CHECK(policy.api_read(channel_read::presence, "room") == R::none);
    CHECK(policy.api_read(channel_read::history, "ns:x") == R::not_available);
    CHECK(policy.api_read(channel_read::presence, "nope:x") == R::unknown_channel);
  }
}

TEST_CASE("the policy reports a channel's history and join/leave", "[channel_policy]") {
  channel_options options = with_history();
  options.join_leave = true;
  const auto policy = policy_with(options);
  CHECK(policy.history("room").size == 10);
  CHECK_FALSE(policy.history("ns:room").enabled());
  CHECK_FALSE(policy.history("nope:room").enabled());
  CHECK(policy.pushes_join_leave("room"));
  CHECK_FALSE(policy.pushes_join_leave("ns:room"));
  CHECK(policy.known("ns:room"));
  CHECK_FALSE(policy.known("nope:room"));
}
