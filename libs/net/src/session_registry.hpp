#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace herald::net {

class websocket_session;

// Live WebSocket sessions, for two jobs only: the max-connections bound and
// reaching every session at shutdown. Touched once per connect and
// disconnect, never on the message path (the broadcaster holds the
// subscriber sets).
class session_registry {
 public:
  // Reserves a slot; false when `limit` (0: none) sessions already exist.
  bool try_reserve(std::uint64_t limit);

  // Turns a reservation into a registered session.
  void add(const std::shared_ptr<websocket_session>& session);
  // Drops a session and its slot.
  void remove(const websocket_session* session);

  std::vector<std::shared_ptr<websocket_session>> snapshot() const;
  std::size_t size() const;

  // Waits until no session is left or `deadline` passes; true if none left.
  template <class TimePoint>
  bool wait_empty_until(TimePoint deadline) {
    std::unique_lock lock{mutex_};
    return emptied_.wait_until(lock, deadline, [this] { return slots_ == 0; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::uint64_t slots_ = 0;
  std::unordered_map<const websocket_session*, std::weak_ptr<websocket_session>> sessions_;
};

}  // namespace herald::net
