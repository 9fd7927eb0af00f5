#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "herald/core/channel_options.hpp"

using herald::core::channel_namespaces;
using herald::core::channel_naming;
using herald::core::channel_options;

namespace {

channel_namespaces sample() {
  channel_options defaults;
  defaults.presence = true;
  channel_namespaces namespaces(defaults);
  channel_options chat;
  chat.history_size = 100;
  chat.history_ttl = std::chrono::seconds(300);
  chat.allow_subscribe_for_client = true;
  namespaces.set_namespace("chat", chat);
  namespaces.set_namespace("news", channel_options{});
  return namespaces;
}

}  // namespace

TEST_CASE("channel options default to everything off", "[channel_options]") {
  channel_options o;
  REQUIRE_FALSE(o.presence);
  REQUIRE_FALSE(o.join_leave);
  REQUIRE_FALSE(o.history_enabled());
  REQUIRE_FALSE(o.allow_subscribe_for_client);
  REQUIRE_FALSE(o.allow_publish_for_client);
  REQUIRE_FALSE(o.allow_presence_for_client);
  REQUIRE_FALSE(o.allow_history_for_client);
  o.history_size = 10;
  REQUIRE_FALSE(o.history_enabled());  // both size and ttl are needed
  o.history_ttl = std::chrono::seconds(1);
  REQUIRE(o.history_enabled());
  const channel_naming naming;
  REQUIRE(naming.namespace_boundary == ":");
  REQUIRE(naming.private_prefix == "$");
}

TEST_CASE("namespace_of is the part before the first boundary", "[channel_options]") {
  auto ns = sample();
  REQUIRE(ns.namespace_of("chat:room") == "chat");
  REQUIRE(ns.namespace_of("chat:room:1") == "chat");
  REQUIRE(ns.namespace_of("plain") == "");
  REQUIRE(ns.namespace_of(":leading") == "");
  REQUIRE(ns.namespace_of("chat:") == "chat");
  REQUIRE(ns.namespace_of("$chat:secret") == "chat");  // the private prefix is skipped
  REQUIRE(ns.namespace_of("$plain") == "");
}

TEST_CASE("options_for picks the namespace's options, else the top-level ones",
          "[channel_options]") {
  auto ns = sample();
  const channel_options* top = ns.options_for("plain");
  REQUIRE(top == &ns.defaults());
  REQUIRE(top->presence);
  const channel_options* chat = ns.options_for("chat:room");
  REQUIRE(chat != nullptr);
  REQUIRE(chat->history_size == 100);
  REQUIRE(chat->allow_subscribe_for_client);
  REQUIRE_FALSE(chat->presence);  // a namespace does not inherit from the top level
  REQUIRE(ns.options_for("news:x") != nullptr);
  REQUIRE(ns.options_for(":x") == &ns.defaults());
  // An unknown namespace has no options: the caller answers 102.
  REQUIRE(ns.options_for("unknown:x") == nullptr);
  REQUIRE(ns.has_namespace("chat"));
  REQUIRE_FALSE(ns.has_namespace("unknown"));
  REQUIRE(ns.namespace_count() == 2);

  channel_options replaced;
  replaced.join_leave = true;
  ns.set_namespace("chat", replaced);
  REQUIRE(ns.options_for("chat:room")->join_leave);
  REQUIRE(ns.options_for("chat:room")->history_size == 0);
  REQUIRE(ns.namespace_count() == 2);
}

TEST_CASE("the boundary and prefixes are configurable", "[channel_options]") {
  channel_naming naming;
  naming.namespace_boundary = "::";
  naming.private_prefix = "";
  channel_namespaces ns(channel_options{}, naming);
  ns.set_namespace("a", channel_options{});
  REQUIRE(ns.namespace_of("a::b") == "a");
  REQUIRE(ns.namespace_of("a:b") == "");
  REQUIRE(ns.namespace_of("$a::b") == "$a");
  REQUIRE_FALSE(ns.is_private("$a::b"));

  channel_naming flat;
  flat.namespace_boundary = "";
  channel_namespaces no_namespaces(channel_options{}, flat);
  REQUIRE(no_namespaces.namespace_of("chat:room") == "");
  REQUIRE(no_namespaces.options_for("chat:room") == &no_namespaces.defaults());
}

TEST_CASE("private and user-limited channels", "[channel_options]") {
  auto ns = sample();
  REQUIRE(ns.is_private("$secret"));
  REQUIRE(ns.is_private("$chat:secret"));
  REQUIRE_FALSE(ns.is_private("chat:$secret"));

  REQUIRE_FALSE(ns.is_user_limited("chat:room"));
  REQUIRE(ns.user_allowed("chat:room", "anyone"));
  REQUIRE(ns.is_user_limited("dialog#42,43"));
  REQUIRE(ns.user_allowed("dialog#42,43", "42"));
  REQUIRE(ns.user_allowed("dialog#42,43", "43"));
  REQUIRE_FALSE(ns.user_allowed("dialog#42,43", "4"));
  REQUIRE_FALSE(ns.user_allowed("dialog#42,43", ""));
  REQUIRE(ns.user_allowed("chat:#7", "7"));
  REQUIRE(ns.user_allowed("a#1#2", "2"));  // the part after the last boundary
  REQUIRE_FALSE(ns.user_allowed("a#1#2", "1"));
  REQUIRE(ns.user_allowed("personal#", ""));
}

TEST_CASE("find_namespace, namespaces and set_defaults", "[channel_options]") {
  auto ns = sample();
  REQUIRE(ns.find_namespace("chat") != nullptr);
  REQUIRE(ns.find_namespace("chat")->history_size == 100);
  REQUIRE(ns.find_namespace("chat") == ns.options_for("chat:room"));
  REQUIRE(ns.find_namespace("unknown") == nullptr);
  REQUIRE(ns.find_namespace("") == nullptr);
  std::string names;
  for (const auto& [name, options] : ns.namespaces()) {
    names += name + ";";
  }
  REQUIRE(names == "chat;news;");

  channel_options defaults;
  defaults.join_leave = true;
  ns.set_defaults(defaults);
  REQUIRE(ns.options_for("plain")->join_leave);
  REQUIRE_FALSE(ns.options_for("plain")->presence);
  REQUIRE_FALSE(ns.options_for("chat:room")->join_leave);  // namespaces keep theirs
  REQUIRE(ns.namespace_count() == 2);
}
