#include "poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace herald::bench {

namespace {

// Enough for a thousand subscribers that all became readable at once to be
// handled in one round; more simply wait for the next round.
constexpr int max_events_per_wait = 4096;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

poller::poller() : events_(max_events_per_wait) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw_errno("epoll_create1");
  }
}

poller::~poller() {
  close(epoll_fd_);
}

void poller::add(int fd, std::uint64_t token, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) < 0) {
    throw_errno("epoll_ctl(ADD)");
  }
}

void poller::modify(int fd, std::uint64_t token, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) < 0) {
    throw_errno("epoll_ctl(MOD)");
  }
}

void poller::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

int poller::wait(int timeout_ms) {
  int count = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  if (count < 0) {
    if (errno == EINTR) {
      return 0;
    }
    throw_errno("epoll_wait");
  }
  return count;
}

}  // namespace herald::bench
