#pragma once

#include <cstddef>
#include <deque>

#include "herald/core/frame.hpp"

namespace herald::core {

// A connection's frames waiting to be written, bounded in bytes. A frame
// being written stays at the front and counts as unsent until its write
// completes, so the bound covers everything the server still holds for the
// client (the kernel's socket buffer aside), and the frame's bytes stay
// alive while the transport reads them.
class outbound_queue {
 public:
  explicit outbound_queue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `frame` unless the unsent bytes would exceed the bound; returns
  // false (and keeps nothing) when the client is too slow to keep up.
  bool push(frame_ptr frame);

  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }

  // Whether a write is in flight.
  bool writing() const { return writing_; }
  // Whether there is a frame to write now (queue not empty, none in flight).
  bool ready() const { return !writing_ && !frames_.empty(); }

  // Marks the front frame as being written and returns it. Requires ready().
  const frame_ptr& begin_write();

  // The front frame's write completed; it leaves the queue.
  void end_write();

  // Drops every frame not being written: the connection is closing and will
  // send nothing more, but the transport may still be reading the front.
  void drop_pending();

 private:
  std::deque<frame_ptr> frames_;
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
  bool writing_ = false;
};

}  // namespace herald::core
