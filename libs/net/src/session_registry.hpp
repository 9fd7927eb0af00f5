#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace herald::net {

// What the registry needs of a WebSocket session, whatever its protocol.
class live_session {
 public:
  virtual ~live_session() = default;
  // Flush what is queued, then close (1001 on /ws, 3001 on the client
  // protocol). Callable from any thread.
  virtual void begin_shutdown() = 0;
  // Cut the connection now (shutdown-timeout passed). Any thread.
  virtual void abort() = 0;
};

// Live WebSocket sessions, for two jobs only: the max-connections bound and
// reaching every session at shutdown. Touched once per connect and
// disconnect, never on the message path (the broadcaster holds the
// subscriber sets).
class session_registry {
 public:
  // Reserves a slot; false when `limit` (0: none) sessions already exist.
  bool try_reserve(std::uint64_t limit);

  // Turns a reservation into a registered session.
  void add(const std::shared_ptr<live_session>& session);
  // Drops a session and its slot.
  void remove(const live_session* session);

  std::vector<std::shared_ptr<live_session>> snapshot() const;
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
  std::unordered_map<const live_session*, std::weak_ptr<live_session>> sessions_;
};

}  // namespace herald::net
