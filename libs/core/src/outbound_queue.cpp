#include "herald/core/outbound_queue.hpp"

#include <cassert>

namespace herald::core {

bool outbound_queue::push(frame_ptr frame) {
  const std::size_t size = frame->size();
  if (bytes_ + size > max_bytes_) {
    return false;
  }
  bytes_ += size;
  frames_.push_back(std::move(frame));
  return true;
}

const frame_ptr& outbound_queue::begin_write() {
  assert(ready());
  writing_ = true;
  return frames_.front();
}

void outbound_queue::end_write() {
  assert(writing_);
  writing_ = false;
  bytes_ -= frames_.front()->size();
  frames_.pop_front();
}

void outbound_queue::drop_pending() {
  const std::size_t keep = writing_ ? 1 : 0;
  while (frames_.size() > keep) {
    bytes_ -= frames_.back()->size();
    frames_.pop_back();
  }
}

}  // namespace herald::core
