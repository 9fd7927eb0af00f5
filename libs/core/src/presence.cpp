#include "herald/core/presence.hpp"

#include <utility>

#include "herald/core/swap_erase.hpp"

namespace herald::core {

bool operator==(const client_info& a, const client_info& b) {
  return a.user == b.user && a.conn_info == b.conn_info && a.chan_info == b.chan_info;
}

bool operator!=(const client_info& a, const client_info& b) {
  return !(a == b);
}

presence_registry::client_map& presence_registry::writable(channel_entry& entry) {
  if (entry.clients.use_count() > 1) {
    entry.clients = std::make_shared<client_map>(*entry.clients);
  }
  return *entry.clients;
}

bool presence_registry::join(const std::string& channel, const std::string& client_id,
                             client_info info) {
  auto& entry = channels_[channel];
  auto found = entry.clients->find(client_id);
  if (found != entry.clients->end()) {
    if (found->second == info) {
      return false;
    }
    auto& clients = writable(entry);
    auto it = clients.find(client_id);
    if (it->second.user != info.user) {
      drop_user(entry, it->second.user);
      add_user(entry, info.user);
    }
    it->second = std::move(info);
    return false;
  }
  add_user(entry, info.user);
  writable(entry).emplace(client_id, std::move(info));
  client_channels_[client_id].push_back(channel);
  return true;
}

std::optional<client_info> presence_registry::leave(const std::string& channel,
                                                    const std::string& client_id) {
  auto info = erase_from_channel(channel, client_id);
  if (!info) {
    return std::nullopt;
  }
  auto it = client_channels_.find(client_id);
  if (it != client_channels_.end()) {
    swap_erase(it->second, channel);
    if (it->second.empty()) {
      client_channels_.erase(it);
    }
  }
  return info;
}

std::vector<presence_departure> presence_registry::remove_client(const std::string& client_id) {
  std::vector<presence_departure> departures;
  auto it = client_channels_.find(client_id);
  if (it == client_channels_.end()) {
    return departures;
  }
  departures.reserve(it->second.size());
  for (auto& channel : it->second) {
    auto info = erase_from_channel(channel, client_id);
    if (info) {
      departures.push_back(presence_departure{std::move(channel), std::move(*info)});
    }
  }
  client_channels_.erase(it);
  return departures;
}

const presence_registry::client_map& presence_registry::presence(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? *empty_ : *it->second.clients;
}

presence_registry::shared_client_map presence_registry::snapshot(const std::string& channel) const {
  auto it = channels_.find(channel);
  return it == channels_.end() ? empty_ : shared_client_map{it->second.clients};
}

presence_stats presence_registry::stats(const std::string& channel) const {
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    return {};
  }
  return {it->second.clients->size(), it->second.users.size()};
}

bool presence_registry::contains(const std::string& channel, const std::string& client_id) const {
  auto it = channels_.find(channel);
  return it != channels_.end() && it->second.clients->count(client_id) != 0;
}

void presence_registry::add_user(channel_entry& entry, const std::string& user) {
  ++entry.users[user];
}

void presence_registry::drop_user(channel_entry& entry, const std::string& user) {
  auto it = entry.users.find(user);
  if (it != entry.users.end() && --it->second == 0) {
    entry.users.erase(it);
  }
}

std::optional<client_info> presence_registry::erase_from_channel(const std::string& channel,
                                                                 const std::string& client_id) {
  auto channel_it = channels_.find(channel);
  if (channel_it == channels_.end()) {
    return std::nullopt;
  }
  auto& entry = channel_it->second;
  if (entry.clients->count(client_id) == 0) {
    return std::nullopt;
  }
  auto& clients = writable(entry);
  auto it = clients.find(client_id);
  std::optional<client_info> info(std::move(it->second));
  clients.erase(it);
  drop_user(entry, info->user);
  // An empty channel holds no memory, as in Centrifugo's hub.
  if (clients.empty()) {
    channels_.erase(channel_it);
  }
  return info;
}

}  // namespace herald::core
