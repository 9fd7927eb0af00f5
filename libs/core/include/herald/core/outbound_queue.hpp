#pragma once

#include <cstddef>
#include <vector>

#include "herald/core/frame.hpp"

namespace herald::core {

// A connection's frames waiting to be written, bounded in bytes. The queue
// holds whole batches, shared with the connection's other subscribers, and
// hands out everything unsent as one gather list, so all that is queued for
// a socket leaves in one system call (corking). Writes may stop anywhere:
// the queue remembers how much of the front frame went out, and while a
// frame is partly written (mid_frame()) nothing else may go to the socket.
class outbound_queue {
 public:
  explicit outbound_queue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends `batch` unless the unsent bytes would exceed the bound; returns
  // false (and keeps nothing) when the client is too slow to keep up. An
  // empty queue takes any batch, however large.
  bool push(frame_batch_ptr batch);
  // Whether push() would take a batch of `bytes`.
  bool would_take(std::size_t bytes) const {
    return bytes_ == 0 || bytes == 0 || bytes_ + bytes <= max_bytes_;
  }

  bool empty() const { return bytes_ == 0; }
  // Bytes not yet written, the rest of a partly written frame included.
  std::size_t bytes() const { return bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }

  // Whether the front frame is partly written.
  bool mid_frame() const { return offset_ > 0; }

  // Calls visit(const char* data, std::size_t size) for the unsent bytes in
  // order, at most `max_pieces` times (one piece per frame); with
  // `current_frame_only`, only for the rest of the front frame. Returns the
  // number of bytes visited.
  template <class Visit>
  std::size_t gather(Visit&& visit, std::size_t max_pieces, bool current_frame_only = false) const;

  // `written` bytes from the front went out: finished frames leave.
  void consume(std::size_t written);

  // Drops every frame not yet started; the rest of a partly written frame
  // stays, since the stream breaks if a frame stops halfway.
  void drop_pending();

  // Drops everything, a partly written frame included: the socket failed.
  void clear();

  // Asks the CPU to start loading the first batch's pointer, which gather()
  // reads first (a hint; changes nothing).
  void prefetch_front() const noexcept {
    if (head_ < batches_.size()) {
      __builtin_prefetch(batches_.data() + head_);
    }
  }

 private:
  const frame_ptr& front_frame() const { return batches_[head_]->frames[frame_index_]; }
  void skip_empty_batches();
  void reset();

  std::vector<frame_batch_ptr> batches_;
  std::size_t head_ = 0;         // first batch not completely written
  std::size_t frame_index_ = 0;  // first unwritten frame of batches_[head_]
  std::size_t offset_ = 0;       // bytes of that frame already written
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
};

template <class Visit>
std::size_t outbound_queue::gather(Visit&& visit, std::size_t max_pieces,
                                   bool current_frame_only) const {
  std::size_t visited = 0;
  std::size_t pieces = 0;
  std::size_t offset = offset_;
  std::size_t frame_index = frame_index_;
  for (std::size_t batch = head_; batch < batches_.size(); ++batch) {
    const auto& frames = batches_[batch]->frames;
    for (; frame_index < frames.size(); ++frame_index) {
      if (pieces == max_pieces) {
        return visited;
      }
      const std::string& frame = *frames[frame_index];
      if (frame.size() > offset) {
        visit(frame.data() + offset, frame.size() - offset);
        visited += frame.size() - offset;
        ++pieces;
      }
      offset = 0;
      if (current_frame_only) {
        return visited;
      }
    }
    frame_index = 0;
  }
  return visited;
}

}  // namespace herald::core
