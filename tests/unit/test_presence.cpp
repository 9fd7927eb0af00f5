#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "herald/core/presence.hpp"

using herald::core::client_info;
using herald::core::presence_registry;

namespace {

client_info info(const std::string& user, const std::string& chan_info = "") {
  return client_info{user, R"({"name":")" + user + R"("})", chan_info};
}

std::set<std::string> channels_of(const std::vector<herald::core::presence_departure>& left) {
  std::set<std::string> result;
  for (const auto& d : left) {
    result.insert(d.channel);
  }
  return result;
}

}  // namespace

TEST_CASE("join tells whether the client is new and keeps its info", "[presence]") {
  presence_registry p;
  REQUIRE(p.join("chat", "c1", info("alice")));
  REQUIRE(p.join("chat", "c2", info("bob")));
  REQUIRE_FALSE(p.join("chat", "c1", info("alice", R"({"role":"admin"})")));
  const auto& clients = p.presence("chat");
  REQUIRE(clients.size() == 2);
  REQUIRE(clients.at("c1").chan_info == R"({"role":"admin"})");  // replaced, as Centrifugo does
  REQUIRE(clients.at("c2") == info("bob"));
  REQUIRE(p.contains("chat", "c1"));
  REQUIRE_FALSE(p.contains("chat", "c3"));
  REQUIRE_FALSE(p.contains("other", "c1"));
  REQUIRE(p.presence("nobody").empty());
}

TEST_CASE("leave returns the departed client's info", "[presence]") {
  presence_registry p;
  p.join("chat", "c1", info("alice", "{}"));
  auto left = p.leave("chat", "c1");
  REQUIRE(left);
  REQUIRE(*left == info("alice", "{}"));
  REQUIRE_FALSE(p.leave("chat", "c1"));
  REQUIRE_FALSE(p.leave("nowhere", "c1"));
  // An empty channel and a client in no channel hold nothing.
  REQUIRE(p.channel_count() == 0);
  REQUIRE(p.client_count() == 0);
}

TEST_CASE("stats count clients and distinct users", "[presence]") {
  presence_registry p;
  REQUIRE(p.stats("chat").num_clients == 0);
  p.join("chat", "c1", info("alice"));
  p.join("chat", "c2", info("alice"));  // a second tab
  p.join("chat", "c3", info("bob"));
  p.join("chat", "c4", info(""));  // anonymous clients count as one user
  p.join("chat", "c5", info(""));
  auto s = p.stats("chat");
  REQUIRE(s.num_clients == 5);
  REQUIRE(s.num_users == 3);
  p.leave("chat", "c1");
  REQUIRE(p.stats("chat").num_users == 3);
  p.leave("chat", "c2");
  REQUIRE(p.stats("chat").num_users == 2);
  // A re-join under another user moves the client between users.
  p.join("chat", "c3", info("carol"));
  s = p.stats("chat");
  REQUIRE(s.num_clients == 3);
  REQUIRE(s.num_users == 2);
  p.join("chat", "c4", info("carol"));
  REQUIRE(p.stats("chat").num_users == 2);
  p.join("chat", "c5", info("carol"));
  REQUIRE(p.stats("chat").num_users == 1);
}

TEST_CASE("remove_client leaves every channel and says which", "[presence]") {
  presence_registry p;
  p.join("a", "c1", info("alice", R"({"in":"a"})"));
  p.join("b", "c1", info("alice", R"({"in":"b"})"));
  p.join("b", "c2", info("bob"));
  p.join("c", "c1", info("alice"));
  p.leave("c", "c1");
  auto left = p.remove_client("c1");
  REQUIRE(channels_of(left) == std::set<std::string>{"a", "b"});
  for (const auto& d : left) {
    REQUIRE(d.info.chan_info == R"({"in":")" + d.channel + R"("})");
  }
  REQUIRE(p.presence("a").empty());
  REQUIRE(p.presence("b").size() == 1);
  REQUIRE(p.stats("b").num_users == 1);
  REQUIRE(p.remove_client("c1").empty());
  REQUIRE(p.channel_count() == 1);
  REQUIRE(p.client_count() == 1);
}

TEST_CASE("presence agrees with a simple reference model", "[presence]") {
  std::mt19937 rng(7);
  presence_registry p;
  // channel -> client -> user
  std::map<std::string, std::map<std::string, std::string>> model;
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int step = 0; step < 20000; ++step) {
    const std::string channel = "ch" + std::to_string(pick(6));
    const std::string client = "cl" + std::to_string(pick(12));
    const std::string user = "u" + std::to_string(pick(4));
    const int op = pick(10);
    if (op < 6) {
      const bool fresh = model[channel].count(client) == 0;
      model[channel][client] = user;
      REQUIRE(p.join(channel, client, info(user)) == fresh);
    } else if (op < 9) {
      auto it = model.find(channel);
      const bool there = it != model.end() && it->second.erase(client) == 1;
      auto left = p.leave(channel, client);
      REQUIRE(left.has_value() == there);
    } else {
      std::set<std::string> expected;
      for (auto& [name, clients] : model) {
        if (clients.erase(client) == 1) {
          expected.insert(name);
        }
      }
      REQUIRE(channels_of(p.remove_client(client)) == expected);
    }
    for (const auto& [name, clients] : model) {
      std::set<std::string> users;
      for (const auto& [id, u] : clients) {
        users.insert(u);
        REQUIRE(p.presence(name).at(id).user == u);
      }
      REQUIRE(p.presence(name).size() == clients.size());
      REQUIRE(p.stats(name).num_clients == clients.size());
      REQUIRE(p.stats(name).num_users == users.size());
    }
  }
}

TEST_CASE("a snapshot keeps what it saw; the registry copies only when it must", "[presence]") {
  herald::core::presence_registry registry;
  registry.join("room", "c1", {"u1", "", ""});
  const auto before = registry.snapshot("room");
  registry.join("room", "c2", {"u2", "", ""});
  registry.leave("room", "c1");
  CHECK(before->size() == 1);
  CHECK(before->count("c1") == 1);
  const auto after = registry.snapshot("room");
  CHECK(after->size() == 1);
  CHECK(after->count("c2") == 1);
  // Without a snapshot outstanding, changes go in place: no copy.
  const auto* in_place = &registry.presence("room");
  registry.join("room", "c3", {"u3", "", ""});
  CHECK(&registry.presence("room") != in_place);  // `after` held it: copied once
  const auto* now = &registry.presence("room");
  registry.join("room", "c4", {"u4", "", ""});
  CHECK(&registry.presence("room") == now);
  CHECK(registry.snapshot("nowhere")->empty());
}
