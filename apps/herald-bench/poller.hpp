#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

namespace herald::bench {

// Level-triggered epoll. Level triggering lets a connection read once per
// readiness (up to 64 KiB) and come back on the next round if more is
// queued, instead of reading until EAGAIN: that saves one system call per
// ready socket per round, which is most of the bench's cost per delivery.
class poller {
 public:
  poller();
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // `token` comes back in epoll_event::data.u64 (the connection's index).
  void add(int fd, std::uint64_t token, std::uint32_t events);
  void modify(int fd, std::uint64_t token, std::uint32_t events);
  // Not needed before close(): the kernel forgets a closed descriptor.
  void remove(int fd);

  // Waits up to `timeout_ns` (negative: forever); the events are in
  // ready(). Sub-millisecond waits need epoll_pwait2 (Linux 5.11); where it
  // is missing the wait is rounded up to whole milliseconds.
  int wait(std::int64_t timeout_ns);
  const epoll_event& ready(int i) const { return events_[i]; }

 private:
  int epoll_fd_ = -1;
  bool have_pwait2_ = true;
  std::vector<epoll_event> events_;
};

}  // namespace herald::bench
