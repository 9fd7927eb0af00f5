#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "herald/core/swap_erase.hpp"

namespace herald::core {

// Channel -> subscribers, plus the reverse index that lets a departed
// subscriber be removed from every channel at once. A pure data structure: the
// broadcaster actor owns one and is its only user, so it needs no locking.
// Subscribing, unsubscribing and removal are O(1) per channel; iterating a
// channel's subscribers walks a contiguous vector (the fan-out hot path).
template <class Subscriber, class Hash = std::hash<Subscriber>>
class channel_registry {
 public:
  using subscriber_list = std::vector<Subscriber>;

  // Returns false if `subscriber` already was in `channel`.
  bool subscribe(const std::string& channel, const Subscriber& subscriber) {
    auto& members = channels_[channel];
    auto [it, inserted] = members.positions.emplace(subscriber, members.list.size());
    if (!inserted) {
      return false;
    }
    members.list.push_back(subscriber);
    subscriptions_[subscriber].push_back(channel);
    ++subscription_count_;
    return true;
  }

  // Returns false if `subscriber` was not in `channel`. Takes `subscriber` by
  // value: a caller may pass an element of subscribers(), which the swap-remove
  // below overwrites.
  bool unsubscribe(const std::string& channel, Subscriber subscriber) {
    if (!erase_from_channel(channel, subscriber)) {
      return false;
    }
    --subscription_count_;
    auto it = subscriptions_.find(subscriber);
    if (it != subscriptions_.end()) {
      swap_erase(it->second, channel);
      if (it->second.empty()) {
        subscriptions_.erase(it);
      }
    }
    return true;
  }

  // Drops `subscriber` from every channel; returns how many it was in. By
  // value for the same reason as unsubscribe().
  std::size_t remove(Subscriber subscriber) {
    auto it = subscriptions_.find(subscriber);
    if (it == subscriptions_.end()) {
      return 0;
    }
    const std::size_t count = it->second.size();
    for (const auto& channel : it->second) {
      erase_from_channel(channel, subscriber);
    }
    subscriptions_.erase(it);
    subscription_count_ -= count;
    return count;
  }

  // Subscribers of `channel`; empty if nobody listens.
  const subscriber_list& subscribers(const std::string& channel) const {
    auto it = channels_.find(channel);
    return it == channels_.end() ? empty_ : it->second.list;
  }

  // Calls `f(subscriber)` once for every subscriber of any channel.
  template <class F>
  void for_each_subscriber(F&& f) const {
    for (const auto& entry : subscriptions_) {
      f(entry.first);
    }
  }

  // Calls `f(channel, subscribers)` once for every channel with subscribers.
  template <class F>
  void for_each_channel(F&& f) const {
    for (const auto& [name, m] : channels_) {
      f(name, m.list);
    }
  }

  // The entry of `subscriber` in `channel`, or nullptr. Valid until the
  // next change.
  const Subscriber* find(const std::string& channel, const Subscriber& subscriber) const {
    auto channel_it = channels_.find(channel);
    if (channel_it == channels_.end()) {
      return nullptr;
    }
    auto pos = channel_it->second.positions.find(subscriber);
    return pos == channel_it->second.positions.end() ? nullptr
                                                     : &channel_it->second.list[pos->second];
  }

  // The channels `subscriber` is in; empty if none.
  std::vector<std::string> channels_of(const Subscriber& subscriber) const {
    auto it = subscriptions_.find(subscriber);
    return it == subscriptions_.end() ? std::vector<std::string>{} : it->second;
  }

  // Whether `subscriber` is in at least one channel.
  bool contains(const Subscriber& subscriber) const {
    return subscriptions_.count(subscriber) != 0;
  }

  std::size_t channel_count() const { return channels_.size(); }
  // Subscribers in at least one channel.
  std::size_t subscriber_count() const { return subscriptions_.size(); }
  // (channel, subscriber) pairs.
  std::size_t subscription_count() const { return subscription_count_; }

 private:
  struct members {
    subscriber_list list;
    std::unordered_map<Subscriber, std::size_t, Hash> positions;
  };

  bool erase_from_channel(const std::string& channel, const Subscriber& subscriber) {
    auto channel_it = channels_.find(channel);
    if (channel_it == channels_.end()) {
      return false;
    }
    auto& m = channel_it->second;
    auto pos_it = m.positions.find(subscriber);
    if (pos_it == m.positions.end()) {
      return false;
    }
    // Swap-remove keeps the list contiguous; fix the moved element's index.
    const std::size_t index = pos_it->second;
    m.positions.erase(pos_it);
    if (index + 1 != m.list.size()) {
      m.list[index] = std::move(m.list.back());
      m.positions[m.list[index]] = index;
    }
    m.list.pop_back();
    if (m.list.empty()) {
      channels_.erase(channel_it);
    }
    return true;
  }

  std::unordered_map<std::string, members> channels_;
  std::unordered_map<Subscriber, std::vector<std::string>, Hash> subscriptions_;
  std::size_t subscription_count_ = 0;
  const subscriber_list empty_;
};

}  // namespace herald::core
