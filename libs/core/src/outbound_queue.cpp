#include "herald/core/outbound_queue.hpp"

#include <cassert>
#include <iterator>

namespace herald::core {
namespace {

// A connection keeps this many batch slots when its queue drains; beyond
// that the slots are freed, so a burst does not leave every idle connection
// holding a large array.
constexpr std::size_t retained_slots = 8;

}  // namespace

bool outbound_queue::push(frame_batch_ptr batch) {
  if (batch->bytes == 0) {
    return true;
  }
  // An empty queue takes any batch: one broadcaster round may exceed the
  // bound on its own, and it is shared, so it costs this connection nothing;
  // a client that does not read is caught by its next push.
  if (!would_take(batch->bytes)) {
    return false;
  }
  bytes_ += batch->bytes;
  // Slots before head_ are finished; reuse them rather than grow.
  if (head_ > 0 && batches_.size() == batches_.capacity()) {
    batches_.erase(batches_.begin(), batches_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  batches_.push_back(std::move(batch));
  return true;
}

void outbound_queue::consume(std::size_t written) {
  // The socket wrote at most what gather() handed it, all of it queued.
  assert(written <= bytes_ && "more bytes written than were queued");
  bytes_ -= written;
  while (written > 0) {
    const std::size_t rest = front_frame()->size() - offset_;
    if (written < rest) {
      offset_ += written;
      return;
    }
    written -= rest;
    offset_ = 0;
    ++frame_index_;
    skip_empty_batches();
  }
  skip_empty_batches();
}

void outbound_queue::skip_empty_batches() {
  while (head_ < batches_.size() && frame_index_ == batches_[head_]->frames.size()) {
    batches_[head_].reset();
    ++head_;
    frame_index_ = 0;
  }
  // Zero-length frames left at the front are written by nothing; skip them.
  while (head_ < batches_.size() && offset_ == 0 && front_frame()->empty()) {
    ++frame_index_;
    if (frame_index_ == batches_[head_]->frames.size()) {
      batches_[head_].reset();
      ++head_;
      frame_index_ = 0;
    }
  }
  if (head_ == batches_.size()) {
    reset();
  }
}

void outbound_queue::drop_pending() {
  if (!mid_frame()) {
    clear();
    return;
  }
  frame_ptr current = front_frame();
  batches_.clear();
  batches_.push_back(make_batch({current}));
  head_ = 0;
  frame_index_ = 0;
  bytes_ = current->size() - offset_;
}

void outbound_queue::clear() {
  reset();
  bytes_ = 0;
}

void outbound_queue::reset() {
  batches_.clear();
  if (batches_.capacity() > retained_slots) {
    batches_.shrink_to_fit();
  }
  head_ = 0;
  frame_index_ = 0;
  offset_ = 0;
}

}  // namespace herald::core
