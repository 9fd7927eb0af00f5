#pragma once

#include <functional>
#include <memory>
#include <utility>

namespace herald::actors {

// One broadcaster round in flight. Each of the round's deliveries holds a
// reference until its session's I/O thread has written it (or dropped it);
// when the last one goes, `on_done` runs, on whichever thread let go of it,
// and tells the broadcaster, which sends its next round only then. So a
// busy server sends fewer, larger rounds (one system call per socket for
// all of them) instead of one round per publication, and an idle one sends
// each publication at once. Includes no CAF header: the transport holds
// tickets too.
class round_ticket {
 public:
  explicit round_ticket(std::function<void()> on_done) noexcept : on_done_(std::move(on_done)) {}
  ~round_ticket() {
    try {
      on_done_();
    } catch (...) {
      // Out of memory for the message: nothing better is possible here, and
      // a destructor must not throw.
    }
  }
  round_ticket(const round_ticket&) = delete;
  round_ticket& operator=(const round_ticket&) = delete;

 private:
  std::function<void()> on_done_;
};

using round_ticket_ptr = std::shared_ptr<const round_ticket>;

}  // namespace herald::actors
