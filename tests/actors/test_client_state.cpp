// The broadcaster's client-protocol state: presence and join/leave,
// presence and history queries, recovery options, and the server API.

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "deterministic_system.hpp"
#include "frame_payload.hpp"
#include "herald/actors/broadcaster.hpp"
#include "herald/actors/connection_actor.hpp"

namespace actors = herald::actors;
namespace core = herald::core;
namespace api = herald::core::server_api;
using herald::test::deterministic_system;
using herald::test::join_request_for;
using herald::test::payload_of;
using herald::test::recording_sink;

namespace {

// A broadcaster and the client-protocol connections a test makes, each
// with its sink; everything is stopped at the end of the test.
struct fixture {
  explicit fixture(core::channel_options options) {
    broadcaster = sys.system.spawn(
        actors::broadcaster, std::make_shared<actors::broadcast_counters>(),
        std::make_shared<const core::channel_namespaces>(core::channel_namespaces{options}),
        std::chrono::seconds{0}, 1u);
  }

  ~fixture() {
    for (auto& client : clients) {
      caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(broadcaster, caf::exit_reason::user_shutdown);
    sys.run();
  }

  // A connected client: its actor has said hello with this identity.
  std::size_t connect(std::string client_id, std::string user, std::string conn_info = {}) {
    sinks.push_back(std::make_shared<recording_sink>());
    clients.push_back(sys.system.spawn(actors::connection, broadcaster,
                                       std::weak_ptr<actors::session_sink>{sinks.back()}));
    caf::anon_send(
        clients.back(), actors::hello_atom::value,
        core::client_identity{std::move(client_id), std::move(user), std::move(conn_info)});
    sys.run();
    return clients.size() - 1;
  }

  void join(std::size_t client, const std::string& channel, core::join_request request) {
    caf::anon_send(clients[client], actors::join_atom::value, channel, std::move(request));
    sys.run();
  }

  void query(std::size_t client, const std::string& channel, core::channel_query request) {
    caf::anon_send(clients[client], actors::query_atom::value, channel, std::move(request));
    sys.run();
  }

  std::string call(api::request request) {
    std::string body;
    caf::anon_send(broadcaster, actors::api_atom::value,
                   actors::api_call{{std::move(request)},
                                    [&body](std::string reply) { body = std::move(reply); }});
    sys.run();
    return body;
  }

  // The JSON messages client `client` received, newline-batched ones split.
  std::vector<boost::json::value> messages(std::size_t client) {
    std::vector<boost::json::value> out;
    for (const auto& frame : sinks[client]->received()) {
      const std::string text = payload_of(frame);
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        out.push_back(boost::json::parse(text.substr(start, end - start)));
        start = end + 1;
      }
    }
    return out;
  }

  deterministic_system sys;
  actors::broadcaster_actor broadcaster;
  std::vector<actors::connection_actor> clients;
  std::vector<std::shared_ptr<recording_sink>> sinks;
};

core::channel_options with_presence() {
  core::channel_options options;
  options.presence = true;
  options.join_leave = true;
  return options;
}

core::channel_options with_history() {
  core::channel_options options;
  options.history_size = 10;
  options.history_ttl = std::chrono::seconds{60};
  return options;
}

core::join_request wanting_join_leave(std::uint32_t id) {
  core::join_request request = join_request_for(id);
  request.join_leave = true;
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
  f.join(bob, "room", join_request_for(1));  // bob did not ask for them

  auto seen = f.messages(alice);
  REQUIRE(seen.size() == 3);  // reply, own join, bob's join
  CHECK(seen[1].at("push").at("join").at("info").at("client") == "c-alice");
  CHECK(seen[1].at("push").at("join").at("info").at("conn_info").at("name") == "Alice");
  CHECK(seen[2].at("push").at("channel") == "room");
  CHECK(seen[2].at("push").at("join").at("info").at("user") == "bob");
  CHECK(f.messages(bob).size() == 1);  // its reply only

  // bob leaves by unsubscribing, then comes back and leaves by
  // disconnecting: alice hears both.
  caf::anon_send(f.clients[bob], actors::unsubscribe_atom::value, std::string{"room"});
  f.sys.run();
  f.join(bob, "room", join_request_for(2));
  caf::anon_send_exit(f.clients[bob], caf::exit_reason::user_shutdown);
  f.sys.run();
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
    f.join(client, "room", join_request_for(1));
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
  fixture f{with_history()};
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
  SECTION("a recover without recoverable (the session drops what is not allowed) is plain") {
    fixture f{with_history()};
    const auto client = f.connect("c1", "");
    auto request = herald::test::recovering_join(1, 0, "");
    request.recoverable = false;
    f.join(client, "feed", request);
    const auto reply = f.messages(client).at(0).at("subscribe").as_object();
    CHECK(reply.empty());
  }
  SECTION("force-recovery recovers without being asked") {
    auto options = with_history();
    options.force_recovery = true;
    fixture f{options};
    const auto client = f.connect("c1", "");
    f.join(client, "feed", join_request_for(1));
    const auto reply = f.messages(client).at(0).at("subscribe").as_object();
    CHECK(reply.at("recoverable").as_bool());
    CHECK(reply.at("positioned").as_bool());
  }
  SECTION("positioning asked for and allowed, without recovery") {
    auto options = with_history();
    options.allow_positioning = true;
    fixture f{options};
    const auto client = f.connect("c1", "");
    auto request = join_request_for(1);
    request.positioned = true;
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
    auto request = herald::test::recovering_join(3, 5, "gone");
    request.flag = 2;
    f.join(client, "feed", request);
    const auto seen = f.messages(client);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].at("id") == 3);
    CHECK(seen[0].at("error").at("code") == 112);
    REQUIRE(f.sinks[client]->unsubscribed.size() == 1);
    CHECK(f.sinks[client]->unsubscribed[0] == std::make_pair(std::string{"feed"}, false));
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
    auto request = join_request_for(1);
    request.generation = 7;
    f.join(client, "news", request);
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
  CHECK(f.sinks[alice]->unsubscribed.empty());
  REQUIRE(f.sinks[alice_too]->unsubscribed.size() == 1);
  CHECK(f.sinks[alice_too]->unsubscribed[0] == std::make_pair(std::string{"news"}, true));
  // The kick names the join it ends, so a session that subscribed again
  // meanwhile keeps its newer subscription.
  CHECK(f.sinks[alice_too]->unsubscribed_generations == std::vector<std::uint32_t>{7});
  f.call(api::publish_request{"news", "2"});
  CHECK(f.messages(alice).size() == 3);
  CHECK(f.messages(alice_too).size() == 2);  // no second publication

  // Disconnect every connection of alice with a code of the caller's.
  api::disconnect_request disconnect;
  disconnect.user = "alice";
  disconnect.code = 4000;
  disconnect.reason = "bye";
  f.call(disconnect);
  CHECK(f.sinks[alice]->disconnects ==
        std::vector<std::pair<std::uint32_t, std::string>>{{4000, "bye"}});
  CHECK(f.sinks[alice_too]->disconnects.size() == 1);
  CHECK(f.sinks[bob]->disconnects.empty());

  auto channels = boost::json::parse(f.call(api::channels_request{"ne*"}));
  CHECK(channels.at("result").at("channels").at("news").at("num_clients") == 2);
  auto info = boost::json::parse(f.call(api::info_request{}));
  CHECK(info.at("result").at("nodes").at(0).at("num_clients") == 3);
  CHECK(info.at("result").at("nodes").at(0).at("num_users") == 2);
}
