// The broadcaster's client-protocol state: the channel policy applied to
// subscribes, publishes and queries, presence and join/leave, presence and
// history queries, recovery options, server-side subscriptions, and the
// server API.

#include <catch2/catch.hpp>

#include <algorithm>

#include <boost/json.hpp>

#include "broadcaster_fixture.hpp"

namespace actors = herald::actors;
namespace core = herald::core;
namespace api = herald::core::server_api;
using answering = actors::command_reply::answering;
using herald::test::open_channels;
using herald::test::subscribe_request;

namespace {

// Every channel with `options`.
struct fixture : herald::test::broadcaster_fixture {
  explicit fixture(core::channel_options options) : broadcaster_fixture(std::move(options)) {}
  std::size_t connect(std::string client_id, std::string user, std::string conn_info = {}) {
    return client(std::move(client_id), std::move(user), std::move(conn_info));
  }
};

core::channel_options with_presence() {
  core::channel_options options = open_channels();
  options.presence = true;
  options.join_leave = true;
  return options;
}

core::channel_options with_history() {
  core::channel_options options = open_channels();
  options.history_size = 10;
  options.history_ttl = std::chrono::seconds{60};
  return options;
}

core::subscription_request wanting_join_leave(std::uint32_t id) {
  core::subscription_request request = subscribe_request(id);
  request.ask.join_leave = true;
  return request;
}

core::channel_query query_of(core::channel_query::kind what, std::uint32_t id) {
  core::channel_query query;
  query.what = what;
  query.id = id;
  return query;
}

}  // namespace

TEST_CASE("join and leave pushes reach the subscribers that asked for them") {
  fixture f{with_presence()};
  const auto alice = f.connect("c-alice", "alice", R"({"name":"Alice"})");
  const auto bob = f.connect("c-bob", "bob");
  f.join(alice, "room", wanting_join_leave(1));
  f.join(bob, "room", subscribe_request(1));  // bob did not ask for them

  auto seen = f.messages(alice);
  REQUIRE(seen.size() == 3);  // reply, own join, bob's join
  CHECK(seen[1].at("push").at("join").at("info").at("client") == "c-alice");
  CHECK(seen[1].at("push").at("join").at("info").at("conn_info").at("name") == "Alice");
  CHECK(seen[2].at("push").at("channel") == "room");
  CHECK(seen[2].at("push").at("join").at("info").at("user") == "bob");
  CHECK(f.messages(bob).size() == 1);  // its reply only

  // bob leaves by unsubscribing, then comes back and leaves by
  // disconnecting: alice hears both.
  f.leave(bob, "room");
  f.join(bob, "room", subscribe_request(2));
  caf::anon_send_exit(f.connections[bob], caf::exit_reason::user_shutdown);
  f.run();
  seen = f.messages(alice);
  REQUIRE(seen.size() == 6);
  CHECK(seen[3].at("push").at("leave").at("info").at("client") == "c-bob");
  CHECK(seen[4].at("push").at("join").at("info").at("client") == "c-bob");
  CHECK(seen[5].at("push").at("leave").at("info").at("client") == "c-bob");
}

TEST_CASE("presence and presence_stats list the channel's clients") {
  fixture f{with_presence()};
  const auto first = f.connect("c1", "u1", R"({"n":1})");
  const auto second = f.connect("c2", "u1");
  const auto third = f.connect("c3", "");
  for (auto client : {first, second, third}) {
    f.join(client, "room", subscribe_request(1));
  }
  f.query(first, "room", query_of(core::channel_query::kind::presence, 5));
  f.query(first, "room", query_of(core::channel_query::kind::presence_stats, 6));
  const auto seen = f.messages(first);
  REQUIRE(seen.size() == 3);
  CHECK(seen[1].at("id") == 5);
  const auto& presence = seen[1].at("presence").at("presence").as_object();
  REQUIRE(presence.size() == 3);
  CHECK(presence.at("c1").at("user") == "u1");
  CHECK(presence.at("c1").at("conn_info").at("n") == 1);
  CHECK(presence.at("c3").at("user") == "");
  CHECK(seen[2].at("id") == 6);
  CHECK(seen[2].at("presence_stats").at("num_clients") == 3);
  CHECK(seen[2].at("presence_stats").at("num_users") == 2);

  const auto body = boost::json::parse(f.call(api::presence_stats_request{"room"}));
  CHECK(body.at("result").at("num_clients") == 3);
}

TEST_CASE("history answers with the channel's publications and position") {
  auto options = with_history();
  options.allow_history_for_client = true;  // the reader is not subscribed
  fixture f{options};
  const auto reader = f.connect("c1", "u1");
  for (int i = 1; i <= 4; ++i) {
    f.call(api::publish_request{"feed", std::to_string(i)});
  }
  auto query = query_of(core::channel_query::kind::history, 9);
  query.limit = 2;
  query.since = core::stream_position{1, ""};
  f.query(reader, "feed", query);
  auto seen = f.messages(reader);
  REQUIRE(seen.size() == 1);
  const auto& history = seen[0].at("history");
  CHECK(history.at("offset") == 4);
  const auto& publications = history.at("publications").as_array();
  REQUIRE(publications.size() == 2);
  CHECK(publications[0].at("offset") == 2);
  CHECK(publications[1].at("data") == 3);

  // A position from another epoch is error 112.
  query.since = core::stream_position{1, "other"};
  f.query(reader, "feed", query);
  seen = f.messages(reader);
  CHECK(seen.at(1).at("error").at("code") == 112);
}

TEST_CASE("recovery follows the channel's options and the request") {
  SECTION("a recover the policy does not grant is a plain subscribe") {
    auto options = with_history();
    options.allow_history_for_subscriber = false;
    options.allow_history_for_anonymous = false;
    fixture f{options};
    const auto client = f.connect("c1", "");
    f.join(client, "feed", herald::test::recovering_subscribe(1, 0, ""));
    const auto reply = f.messages(client).at(0).at("subscribe").as_object();
    CHECK(reply.empty());
  }
  SECTION("force-recovery recovers without being asked") {
    auto options = with_history();
    options.force_recovery = true;
    fixture f{options};
    const auto client = f.connect("c1", "");
    f.join(client, "feed", subscribe_request(1));
    const auto reply = f.messages(client).at(0).at("subscribe").as_object();
    CHECK(reply.at("recoverable").as_bool());
    CHECK(reply.at("positioned").as_bool());
  }
  SECTION("positioning asked for and allowed, without recovery") {
    auto options = with_history();
    options.allow_positioning = true;
    fixture f{options};
    const auto client = f.connect("c1", "");
    auto request = subscribe_request(1);
    request.ask.positioned = true;
    f.join(client, "feed", request);
    const auto reply = f.messages(client).at(0).at("subscribe").as_object();
    CHECK(reply.at("positioned").as_bool());
    CHECK_FALSE(reply.contains("recoverable"));
    CHECK(reply.contains("epoch"));
  }
  SECTION("flag 2 turns a failed recovery into error 112 and no subscription") {
    auto options = with_history();
    options.allow_recovery = true;
    fixture f{options};
    const auto client = f.connect("c1", "");
    auto request = herald::test::recovering_subscribe(3, 5, "gone");
    request.flag = 2;
    f.join(client, "feed", request);
    const auto seen = f.messages(client);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].at("id") == 3);
    CHECK(seen[0].at("error").at("code") == 112);
    // The reply itself tells the session it holds nothing: no kick follows.
    REQUIRE(f.sink(client).outcomes.size() == 1);
    CHECK_FALSE(f.sink(client).outcomes[0].accepted);
    CHECK(f.sink(client).unsubscribed.empty());
    f.call(api::publish_request{"feed", "1"});
    CHECK(f.messages(client).size() == 1);  // not subscribed
  }
}

TEST_CASE("the server API publishes, unsubscribes and disconnects") {
  fixture f{with_history()};
  const auto alice = f.connect("c-a", "alice");
  const auto alice_too = f.connect("c-a2", "alice");
  const auto bob = f.connect("c-b", "bob");
  for (auto client : {alice, alice_too, bob}) {
    f.join(client, "news", subscribe_request(7));
  }
  auto published = boost::json::parse(f.call(api::publish_request{"news", R"({"n":1})"}));
  CHECK(published.at("result").at("offset") == 1);
  CHECK(published.at("result").at("epoch").as_string().size() > 0);
  CHECK(f.messages(bob).at(1).at("push").at("pub").at("data").at("n") == 1);

  // Unknown namespace: 102.
  auto unknown = boost::json::parse(f.call(api::publish_request{"nope:x", "1"}));
  CHECK(unknown.at("error").at("code") == 102);

  // Unsubscribe one of alice's connections: only it is told, with a push.
  api::unsubscribe_request unsubscribe{"news", "alice", "c-a2", ""};
  CHECK(f.call(unsubscribe) == R"({"result":{}})");
  CHECK(f.sink(alice).unsubscribed.empty());
  REQUIRE(f.sink(alice_too).unsubscribed.size() == 1);
  CHECK(f.sink(alice_too).unsubscribed[0].channel == "news");
  // It names the join it ends, so a session that subscribed again meanwhile
  // keeps its newer subscription.
  CHECK(f.sink(alice_too).unsubscribed[0].generation == 7);
  f.call(api::publish_request{"news", "2"});
  CHECK(f.messages(alice).size() == 3);
  CHECK(f.messages(alice_too).size() == 2);  // no second publication

  // Disconnect every connection of alice with a code of the caller's.
  api::disconnect_request disconnect;
  disconnect.user = "alice";
  disconnect.code = 4000;
  disconnect.reason = "bye";
  f.call(disconnect);
  REQUIRE(f.sink(alice).disconnects.size() == 1);
  CHECK(f.sink(alice).disconnects[0].code == 4000);
  CHECK(f.sink(alice).disconnects[0].reason == "bye");
  CHECK(f.sink(alice_too).disconnects.size() == 1);
  CHECK(f.sink(bob).disconnects.empty());

  auto channels = boost::json::parse(f.call(api::channels_request{"ne*"}));
  CHECK(channels.at("result").at("channels").at("news").at("num_clients") == 2);
  auto info = boost::json::parse(f.call(api::info_request{}));
  CHECK(info.at("result").at("nodes").at(0).at("num_clients") == 3);
  CHECK(info.at("result").at("nodes").at(0).at("num_users") == 2);
}

TEST_CASE("a refused subscribe is answered with its error and settles nothing") {
  core::channel_namespaces namespaces{open_channels()};
  core::channel_options closed;  // everything off
  namespaces.set_namespace("closed", closed);
  actors::broadcaster_config config;
  config.namespaces = std::make_shared<const core::channel_namespaces>(namespaces);
  herald::test::broadcaster_fixture f{config};
  const auto client = f.client("c1", "alice");
  f.join(client, "nope:x", subscribe_request(1));
  f.join(client, "closed:x", subscribe_request(2));
  f.join(client, "$private", subscribe_request(3));
  auto expired = subscribe_request(4);
  expired.ask.token = core::channel_token::expired;
  f.join(client, "room", expired);
  const auto seen = f.messages(client);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].at("error").at("code") == 102);
  CHECK(seen[1].at("error").at("code") == 103);
  CHECK(seen[2].at("error").at("code") == 103);
  CHECK(seen[3].at("error").at("code") == 109);
  const auto& outcomes = f.sink(client).outcomes;
  REQUIRE(outcomes.size() == 4);
  for (const auto& outcome : outcomes) {
    CHECK_FALSE(outcome.accepted);
  }
  CHECK(outcomes[1].channel == "closed:x");
  CHECK(outcomes[1].generation == 2);
  CHECK(f.counters->subscriptions.load() == 0);
  CHECK(f.sink(client).disconnects.empty());

  // A valid channel token opens a channel the options close.
  auto with_token = subscribe_request(5);
  with_token.ask.token = core::channel_token::valid;
  f.join(client, "closed:x", with_token);
  REQUIRE(f.sink(client).outcomes.size() == 5);
  CHECK(f.sink(client).outcomes[4].accepted);
  CHECK(f.counters->subscriptions.load() == 1);
}

TEST_CASE("a channel token issued to someone else disconnects the client") {
  fixture f{open_channels()};
  const auto client = f.connect("c1", "alice");
  auto foreign = subscribe_request(1);
  foreign.ask.token = core::channel_token::foreign;
  f.join(client, "room", foreign);
  REQUIRE(f.sink(client).disconnects.size() == 1);
  CHECK(f.sink(client).disconnects[0].code == 3500);
  REQUIRE(f.sink(client).outcomes.size() == 1);
  CHECK_FALSE(f.sink(client).outcomes[0].accepted);
  CHECK(f.sink(client).received().empty());  // no error reply: the close says it
}

TEST_CASE("a client's publish is checked against its subscriptions at that point") {
  auto options = open_channels();
  options.allow_publish_for_subscriber = true;
  fixture f{options};
  const auto client = f.connect("c1", "alice");
  f.client_publish(client, "room", "1", 10);  // not subscribed yet
  // Subscribe and publish in one go, as one frame's commands arrive: the
  // broadcaster sees the publish after the subscribe.
  caf::anon_send(f.connections[client], actors::join_atom::value, std::string{"room"},
                 subscribe_request(11));
  f.client_publish(client, "room", "2", 12);
  f.client_publish(client, "nope:room", "3", 13);
  const auto seen = f.messages(client);
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].at("id") == 10);
  CHECK(seen[0].at("error").at("code") == 103);
  CHECK(seen[1].at("id") == 11);
  CHECK(seen[2] == boost::json::parse(R"({"id":12,"publish":{}})"));
  CHECK(seen[3].at("push").at("pub").at("data") == 2);  // its own publication
  CHECK(seen[4].at("error").at("code") == 102);
  CHECK(f.sink(client).replies == std::vector<answering>{answering::publish, answering::subscribe,
                                                         answering::publish, answering::publish});
  CHECK(f.counters->publications.load() == 1);
}

TEST_CASE("presence and history queries are checked by the channel policy") {
  auto options = with_history();
  options.allow_presence_for_anonymous = false;  // presence: users only
  fixture f{options};
  const auto anonymous = f.connect("c1", "");
  const auto user = f.connect("c2", "bob");
  f.query(anonymous, "room", query_of(core::channel_query::kind::presence, 1));
  f.query(user, "room", query_of(core::channel_query::kind::presence, 2));
  f.query(user, "room", query_of(core::channel_query::kind::history, 3));
  f.join(user, "room", subscribe_request(4));
  f.query(user, "room", query_of(core::channel_query::kind::history, 5));
  f.query(user, "nope:room", query_of(core::channel_query::kind::history, 6));
  const auto seen_anonymous = f.messages(anonymous);
  REQUIRE(seen_anonymous.size() == 1);
  CHECK(seen_anonymous[0].at("error").at("code") == 108);  // presence is off
  const auto seen = f.messages(user);
  REQUIRE(seen.size() == 5);
  CHECK(seen[0].at("error").at("code") == 108);
  CHECK(seen[1].at("error").at("code") == 103);  // history for subscribers only
  CHECK(seen[3].at("id") == 5);
  CHECK(seen[3].as_object().contains("history"));
  CHECK(seen[4].at("error").at("code") == 102);
  // Every query is answered as one, so the session frees its slot.
  CHECK(std::count(f.sink(user).replies.begin(), f.sink(user).replies.end(), answering::query) ==
        4);
}

TEST_CASE("a connect makes the client known, then settles its server-side subscriptions") {
  fixture f{with_history()};
  const auto client = f.spawn_connection();
  core::connect_request request;
  request.id = 1;
  request.identity = core::client_identity{"c1", "alice", {}};
  request.result.client = "c1";
  request.result.version = "v";
  request.subscriptions.push_back({"feed", 1, {}});
  request.subscriptions.push_back({"nope:feed", 2, {}});
  caf::anon_send(f.connections[client], actors::connect_atom::value, std::move(request));
  f.run();
  const auto seen = f.messages(client);
  REQUIRE(seen.size() == 1);
  const auto& subs = seen[0].at("connect").at("subs").as_object();
  CHECK(subs.contains("feed"));
  CHECK_FALSE(subs.contains("nope:feed"));  // an unknown namespace is left out
  CHECK(f.sink(client).replies == std::vector<answering>{answering::connect});
  const auto& outcomes = f.sink(client).outcomes;
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].accepted);
  CHECK_FALSE(outcomes[1].accepted);
  f.call(api::publish_request{"feed", "1"});
  CHECK(f.messages(client).size() == 2);  // subscribed: the publication arrives
  // Known by its user as soon as its reply went out.
  api::disconnect_request disconnect;
  disconnect.user = "alice";
  disconnect.code = 4000;
  f.call(disconnect);
  CHECK(f.sink(client).disconnects.size() == 1);
}

TEST_CASE("joins and leaves travel with the round, one batch per subscriber") {
  fixture f{with_presence()};
  const auto watcher = f.connect("c-watch", "w");
  f.join(watcher, "room", wanting_join_leave(1));
  f.sink(watcher).clear();
  // Ten clients join before the broadcaster runs: their joins reach the
  // watcher as one delivery.
  std::vector<std::size_t> joiners;
  for (int i = 0; i < 10; ++i) {
    joiners.push_back(f.connect("c" + std::to_string(i), "u" + std::to_string(i)));
  }
  for (auto joiner : joiners) {
    caf::anon_send(f.connections[joiner], actors::join_atom::value, std::string{"room"},
                   subscribe_request(1));
  }
  f.run();
  CHECK(f.sink(watcher).batches.size() == 1);
  const auto seen = f.messages(watcher);
  REQUIRE(seen.size() == 10);
  for (const auto& message : seen) {
    CHECK(message.at("push").at("join").at("info").as_object().contains("client"));
  }
}

TEST_CASE("a join and a leave of one client in one round cancel out") {
  fixture f{with_presence()};
  const auto watcher = f.connect("c-watch", "w");
  f.join(watcher, "room", wanting_join_leave(1));
  const auto storm = f.connect("c-storm", "s");
  f.sink(watcher).clear();
  // A subscribe/unsubscribe storm, all in the broadcaster's mailbox at once
  // (the session bounds what one client has in flight; 60 of them here).
  for (std::uint32_t i = 0; i < 30; ++i) {
    caf::anon_send(f.connections[storm], actors::join_atom::value, std::string{"room"},
                   subscribe_request(10 + i));
    caf::anon_send(f.connections[storm], actors::unsubscribe_atom::value, std::string{"room"});
  }
  f.run();
  // Each join is cancelled by the leave that follows it in the round: the
  // watcher hears nothing of the storm.
  CHECK(f.messages(watcher).empty());
  // The storm's own replies all came back, one per request.
  CHECK(f.sink(storm).replies.size() == 60);
  const auto stats = boost::json::parse(f.call(api::presence_stats_request{"room"}));
  CHECK(stats.at("result").at("num_clients") == 1);  // the watcher only
}
