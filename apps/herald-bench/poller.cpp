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

int poller::wait(std::int64_t timeout_ns) {
  auto capacity = static_cast<int>(events_.size());
  int count = -1;
  if (have_pwait2_) {
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    timeout.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    count = epoll_pwait2(epoll_fd_, events_.data(), capacity, timeout_ns < 0 ? nullptr : &timeout,
                         nullptr);
    if (count < 0 && errno == ENOSYS) {
      have_pwait2_ = false;
    }
  }
  if (!have_pwait2_) {
    int timeout_ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    count = epoll_wait(epoll_fd_, events_.data(), capacity, timeout_ms);
  }
  if (count < 0) {
    if (errno == EINTR) {
      return 0;
    }
    throw_errno("epoll_wait");
  }
  return count;
}

}  // namespace herald::bench
