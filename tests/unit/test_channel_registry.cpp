#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "herald/core/channel_registry.hpp"

using registry = herald::core::channel_registry<int>;

namespace {

std::set<int> as_set(const registry::subscriber_list& list) {
  return std::set<int>(list.begin(), list.end());
}

std::vector<int> sorted(registry::subscriber_list list) {
  std::sort(list.begin(), list.end());
  return list;
}

// A subscriber type that is not hashable by std::hash, to exercise Hash.
struct session_id {
  std::uint32_t node;
  std::uint32_t local;
  bool operator==(const session_id& other) const {
    return node == other.node && local == other.local;
  }
};

struct session_id_hash {
  std::size_t operator()(const session_id& id) const {
    return std::hash<std::uint64_t>{}((std::uint64_t{id.node} << 32) | id.local);
  }
};

}  // namespace

TEST_CASE("channel_registry starts empty", "[channel_registry]") {
  const registry reg;
  REQUIRE(reg.channel_count() == 0);
  REQUIRE(reg.subscriber_count() == 0);
  REQUIRE(reg.subscribers("anything").empty());
  REQUIRE_FALSE(reg.contains(1));
}

TEST_CASE("channel_registry subscribe adds once", "[channel_registry]") {
  registry reg;
  REQUIRE(reg.subscribe("news", 1));
  REQUIRE(reg.subscribe("news", 2));
  REQUIRE_FALSE(reg.subscribe("news", 1));  // duplicate
  REQUIRE(sorted(reg.subscribers("news")) == std::vector<int>{1, 2});
  REQUIRE(reg.channel_count() == 1);
  REQUIRE(reg.subscriber_count() == 2);
  REQUIRE(reg.contains(1));
  REQUIRE(reg.contains(2));
  REQUIRE_FALSE(reg.contains(3));

  // The same subscriber in another channel is a separate subscription.
  REQUIRE(reg.subscribe("sport", 1));
  REQUIRE_FALSE(reg.subscribe("sport", 1));
  REQUIRE(reg.subscribers("sport") == registry::subscriber_list{1});
  REQUIRE(reg.channel_count() == 2);
  REQUIRE(reg.subscriber_count() == 2);
}

TEST_CASE("channel_registry keeps subscription order until something leaves",
          "[channel_registry]") {
  registry reg;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(reg.subscribe("c", i));
  }
  REQUIRE(reg.subscribers("c") == registry::subscriber_list{0, 1, 2, 3, 4});
}

TEST_CASE("channel_registry channel names are exact", "[channel_registry]") {
  registry reg;
  REQUIRE(reg.subscribe("a", 1));
  REQUIRE(reg.subscribe("A", 2));
  REQUIRE(reg.subscribe("", 3));
  REQUIRE(reg.subscribe(std::string("a\0b", 3), 4));
  REQUIRE(reg.channel_count() == 4);
  REQUIRE(reg.subscribers("a") == registry::subscriber_list{1});
  REQUIRE(reg.subscribers("A") == registry::subscriber_list{2});
  REQUIRE(reg.subscribers("") == registry::subscriber_list{3});
  REQUIRE(reg.subscribers(std::string("a\0b", 3)) == registry::subscriber_list{4});
}

TEST_CASE("channel_registry unsubscribe", "[channel_registry]") {
  registry reg;
  REQUIRE(reg.subscribe("news", 1));
  REQUIRE(reg.subscribe("news", 2));
  REQUIRE(reg.subscribe("sport", 1));

  REQUIRE(reg.unsubscribe("news", 1));
  REQUIRE_FALSE(reg.unsubscribe("news", 1));  // already gone
  REQUIRE(reg.subscribers("news") == registry::subscriber_list{2});
  REQUIRE(reg.subscribers("sport") == registry::subscriber_list{1});
  REQUIRE(reg.contains(1));  // still in sport
  REQUIRE(reg.subscriber_count() == 2);

  REQUIRE_FALSE(reg.unsubscribe("nowhere", 2));  // unknown channel
  REQUIRE_FALSE(reg.unsubscribe("sport", 2));    // known channel, not a member
  REQUIRE(reg.channel_count() == 2);             // failed calls create nothing

  REQUIRE(reg.unsubscribe("sport", 1));
  REQUIRE_FALSE(reg.contains(1));
  REQUIRE(reg.subscriber_count() == 1);
}

TEST_CASE("channel_registry: a channel disappears when its last subscriber leaves",
          "[channel_registry]") {
  registry reg;
  REQUIRE(reg.subscribe("temp", 7));
  REQUIRE(reg.channel_count() == 1);
  REQUIRE(reg.unsubscribe("temp", 7));
  REQUIRE(reg.channel_count() == 0);
  REQUIRE(reg.subscriber_count() == 0);
  REQUIRE(reg.subscribers("temp").empty());
  REQUIRE_FALSE(reg.contains(7));

  // Subscribing again recreates it.
  REQUIRE(reg.subscribe("temp", 7));
  REQUIRE(reg.subscribers("temp") == registry::subscriber_list{7});

  // Also through remove().
  REQUIRE(reg.subscribe("other", 7));
  REQUIRE(reg.remove(7) == 2);
  REQUIRE(reg.channel_count() == 0);
  REQUIRE(reg.subscribers("other").empty());
}

TEST_CASE("channel_registry remove drops a subscriber from every channel", "[channel_registry]") {
  registry reg;
  for (const char* channel : {"a", "b", "c"}) {
    REQUIRE(reg.subscribe(channel, 1));
    REQUIRE(reg.subscribe(channel, 2));
  }
  REQUIRE(reg.subscribe("d", 1));

  REQUIRE(reg.remove(1) == 4);
  REQUIRE_FALSE(reg.contains(1));
  REQUIRE(reg.subscriber_count() == 1);
  REQUIRE(reg.channel_count() == 3);  // d is gone
  for (const char* channel : {"a", "b", "c"}) {
    REQUIRE(reg.subscribers(channel) == registry::subscriber_list{2});
  }
  REQUIRE(reg.subscribers("d").empty());

  REQUIRE(reg.remove(1) == 0);   // already gone
  REQUIRE(reg.remove(99) == 0);  // never there
  REQUIRE(reg.remove(2) == 3);
  REQUIRE(reg.channel_count() == 0);
  REQUIRE(reg.subscriber_count() == 0);
}

TEST_CASE("channel_registry swap-remove keeps positions right", "[channel_registry]") {
  registry reg;
  for (int i = 0; i < 6; ++i) {
    REQUIRE(reg.subscribe("c", i));
  }
  // Remove from the middle: the last element moves into the hole.
  REQUIRE(reg.unsubscribe("c", 1));
  REQUIRE(sorted(reg.subscribers("c")) == std::vector<int>{0, 2, 3, 4, 5});
  // The moved element (5) must still be removable by its new position.
  REQUIRE(reg.unsubscribe("c", 5));
  REQUIRE(sorted(reg.subscribers("c")) == std::vector<int>{0, 2, 3, 4});
  // Remove the first and the last.
  REQUIRE(reg.unsubscribe("c", 0));
  REQUIRE(reg.unsubscribe("c", reg.subscribers("c").back()));
  REQUIRE(reg.subscribers("c").size() == 2);
  // Duplicates are still detected after the moves.
  for (int member : registry::subscriber_list(reg.subscribers("c"))) {
    REQUIRE_FALSE(reg.subscribe("c", member));
  }
  REQUIRE(reg.subscribers("c").size() == 2);
}

TEST_CASE("channel_registry accepts a subscriber that refers into its own lists",
          "[channel_registry]") {
  // Callers naturally pass elements of subscribers() back in; swap-remove
  // must not change the value that the reference sees mid-operation.
  SECTION("remove") {
    registry reg;
    for (const char* channel : {"a", "b"}) {
      REQUIRE(reg.subscribe(channel, 1));
      REQUIRE(reg.subscribe(channel, 2));
    }
    REQUIRE(reg.remove(reg.subscribers("a").front()) == 2);
    REQUIRE_FALSE(reg.contains(1));
    REQUIRE(reg.contains(2));
    REQUIRE(reg.subscribers("a") == registry::subscriber_list{2});
    REQUIRE(reg.subscribers("b") == registry::subscriber_list{2});
  }
  SECTION("unsubscribe") {
    registry reg;
    REQUIRE(reg.subscribe("a", 1));
    REQUIRE(reg.subscribe("a", 2));
    REQUIRE(reg.subscribe("b", 2));
    REQUIRE(reg.unsubscribe("a", reg.subscribers("a").front()));
    REQUIRE(reg.subscribers("a") == registry::subscriber_list{2});
    REQUIRE(reg.subscribers("b") == registry::subscriber_list{2});
    REQUIRE_FALSE(reg.contains(1));
    REQUIRE(reg.remove(2) == 2);
    REQUIRE(reg.channel_count() == 0);
    REQUIRE(reg.subscriber_count() == 0);
  }
}

TEST_CASE("channel_registry with a custom hash", "[channel_registry]") {
  herald::core::channel_registry<session_id, session_id_hash> reg;
  REQUIRE(reg.subscribe("c", session_id{1, 1}));
  REQUIRE(reg.subscribe("c", session_id{1, 2}));
  REQUIRE(reg.subscribe("c", session_id{2, 1}));
  REQUIRE_FALSE(reg.subscribe("c", session_id{1, 2}));
  REQUIRE(reg.unsubscribe("c", session_id{1, 1}));
  REQUIRE(reg.subscribers("c").size() == 2);
  REQUIRE(reg.contains(session_id{2, 1}));
  REQUIRE(reg.remove(session_id{1, 2}) == 1);
  REQUIRE(reg.subscribers("c").size() == 1);
  REQUIRE(reg.subscribers("c").front() == session_id{2, 1});
}

TEST_CASE("channel_registry matches a std::set model under random operations",
          "[channel_registry]") {
  constexpr int channel_pool = 6;
  constexpr int subscriber_pool = 24;
  constexpr int operations = 5000;
  const std::vector<std::string> channels = [] {
    std::vector<std::string> names;
    for (int i = 0; i < channel_pool; ++i) {
      names.push_back("channel-" + std::to_string(i));
    }
    return names;
  }();

  registry reg;
  std::map<std::string, std::set<int>> model;
  std::mt19937 rng{20240611u};  // fixed seed: the same run every time
  std::size_t subscribes = 0, unsubscribes = 0, removes = 0, refused = 0;

  auto check_all = [&] {
    std::set<int> subscribed;
    std::size_t live_channels = 0;
    for (const auto& channel : channels) {
      const auto& list = reg.subscribers(channel);
      const std::set<int> listed = as_set(list);
      REQUIRE(listed.size() == list.size());  // no duplicates
      REQUIRE(listed == model[channel]);
      if (!list.empty()) {
        ++live_channels;
      }
      subscribed.insert(listed.begin(), listed.end());
    }
    REQUIRE(reg.channel_count() == live_channels);
    REQUIRE(reg.subscriber_count() == subscribed.size());
    for (int s = 0; s < subscriber_pool; ++s) {
      REQUIRE(reg.contains(s) == (subscribed.count(s) != 0));
    }
  };

  for (int step = 0; step < operations; ++step) {
    const auto& channel = channels[rng() % channel_pool];
    const int subscriber = static_cast<int>(rng() % subscriber_pool);
    const auto roll = rng() % 100;
    INFO("step " << step << ", channel " << channel << ", subscriber " << subscriber);
    if (roll < 50) {
      const bool expected = model[channel].insert(subscriber).second;
      REQUIRE(reg.subscribe(channel, subscriber) == expected);
      ++subscribes;
      refused += expected ? 0 : 1;
    } else if (roll < 85) {
      const bool expected = model[channel].erase(subscriber) == 1;
      REQUIRE(reg.unsubscribe(channel, subscriber) == expected);
      ++unsubscribes;
    } else if (roll < 95) {
      std::size_t expected = 0;
      for (auto& [name, members] : model) {
        expected += members.erase(subscriber);
      }
      REQUIRE(reg.remove(subscriber) == expected);
      ++removes;
    } else {
      // Pass an element of the registry's own list back in.
      const auto& list = reg.subscribers(channel);
      if (!list.empty()) {
        const int victim = list[rng() % list.size()];
        std::size_t expected = 0;
        for (auto& [name, members] : model) {
          expected += members.erase(victim);
        }
        const auto& again = reg.subscribers(channel);
        const auto position =
            static_cast<std::size_t>(std::find(again.begin(), again.end(), victim) - again.begin());
        REQUIRE(reg.remove(again[position]) == expected);
        ++removes;
      }
    }
    check_all();
  }
  // The mix exercised every path.
  REQUIRE(subscribes > 1000);
  REQUIRE(unsubscribes > 1000);
  REQUIRE(removes > 300);
  REQUIRE(refused > 100);

  // Drain everything.
  for (int s = 0; s < subscriber_pool; ++s) {
    reg.remove(s);
  }
  model.clear();
  check_all();
  REQUIRE(reg.channel_count() == 0);
  REQUIRE(reg.subscriber_count() == 0);
}
