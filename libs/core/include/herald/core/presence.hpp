#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace herald::core {

// What presence, join and leave report about a client (Centrifugo's
// ClientInfo, less the client id, which is the key). conn_info and chan_info
// are raw JSON as the connect and subscribe tokens gave them; empty when
// absent.
struct client_info {
  std::string user;
  std::string conn_info;
  std::string chan_info;
};

bool operator==(const client_info& a, const client_info& b);
bool operator!=(const client_info& a, const client_info& b);

struct presence_stats {
  std::size_t num_clients = 0;
  std::size_t num_users = 0;  // distinct user ids; anonymous clients ("") count as one user
};

// A client that left a channel, for its leave push.
struct presence_departure {
  std::string channel;
  client_info info;
};

// Who is in which channel, for the presence, presence_stats and join/leave
// features: Centrifugo's in-memory presence hub (presence_memory.go). Clients
// are keyed by their connection id. Unlike Centrifugo, entries do not expire
// by time: on one node a client's presence ends exactly when it unsubscribes
// or disconnects, and the owner calls leave() or remove_client() then.
// stats() is O(1): each channel counts its clients per user as they come and
// go. snapshot() is O(1) too: a channel's clients are shared, copied on the
// next change only while a snapshot of them is still held (copy on write),
// so a presence reply is built from one without holding up the owner. Not
// thread-safe: one owner (the broadcaster actor) uses it; a snapshot is
// immutable and may be read on any thread.
class presence_registry {
 public:
  using client_map = std::unordered_map<std::string, client_info>;
  using shared_client_map = std::shared_ptr<const client_map>;

  // Adds `client_id` to `channel`, or replaces its info if already there
  // (Centrifugo overwrites, e.g. after a sub_refresh). Returns whether the
  // client is new to the channel, i.e. whether a join push is due.
  bool join(const std::string& channel, const std::string& client_id, client_info info);

  // Removes `client_id` from `channel`; returns its info (for the leave push)
  // or nullopt if it was not there.
  std::optional<client_info> leave(const std::string& channel, const std::string& client_id);

  // Removes `client_id` from every channel (a disconnect); returns where it
  // was, with its info there, in no particular order.
  std::vector<presence_departure> remove_client(const std::string& client_id);

  // The clients in `channel`, by client id; empty if none. Valid until the
  // next change.
  const client_map& presence(const std::string& channel) const;

  // The clients in `channel` as they are now, kept as they are whatever
  // changes later; never null.
  shared_client_map snapshot(const std::string& channel) const;

  presence_stats stats(const std::string& channel) const;

  bool contains(const std::string& channel, const std::string& client_id) const;

  // Channels with at least one client, and clients in at least one channel.
  std::size_t channel_count() const { return channels_.size(); }
  std::size_t client_count() const { return client_channels_.size(); }

 private:
  struct channel_entry {
    std::shared_ptr<client_map> clients = std::make_shared<client_map>();
    std::unordered_map<std::string, std::size_t> users;  // user -> its clients here
  };

  // The channel's clients, to change: copied first if a snapshot holds them.
  static client_map& writable(channel_entry& entry);

  void add_user(channel_entry& entry, const std::string& user);
  void drop_user(channel_entry& entry, const std::string& user);
  // Removes the client from the channel's maps only; the caller keeps the
  // reverse index right.
  std::optional<client_info> erase_from_channel(const std::string& channel,
                                                const std::string& client_id);

  std::unordered_map<std::string, channel_entry> channels_;
  // client id -> its channels, so a disconnect leaves them all without a scan.
  std::unordered_map<std::string, std::vector<std::string>> client_channels_;
  const shared_client_map empty_ = std::make_shared<const client_map>();
};

}  // namespace herald::core
