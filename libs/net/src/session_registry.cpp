#include "session_registry.hpp"

namespace herald::net {

bool session_registry::try_reserve(std::uint64_t limit) {
  std::lock_guard lock{mutex_};
  if (limit != 0 && slots_ >= limit) {
    return false;
  }
  ++slots_;
  return true;
}

void session_registry::add(const std::shared_ptr<live_session>& session) {
  std::lock_guard lock{mutex_};
  sessions_.emplace(session.get(), session);
}

void session_registry::remove(const live_session* session) {
  std::lock_guard lock{mutex_};
  sessions_.erase(session);
  --slots_;
  if (slots_ == 0) {
    emptied_.notify_all();
  }
}

std::vector<std::shared_ptr<live_session>> session_registry::snapshot() const {
  std::lock_guard lock{mutex_};
  std::vector<std::shared_ptr<live_session>> live;
  live.reserve(sessions_.size());
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) {
      live.push_back(std::move(session));
    }
  }
  return live;
}

std::size_t session_registry::size() const {
  std::lock_guard lock{mutex_};
  return slots_;
}

}  // namespace herald::net
