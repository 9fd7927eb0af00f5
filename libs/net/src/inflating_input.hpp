#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/buffer.hpp>

#include "herald/core/inflating_frame_reader.hpp"

namespace herald::net {

// What a connection that negotiated permessage-deflate reads through: the
// bytes off the socket go through an inflating_frame_reader, and Beast reads
// what it gives (see corked_socket::async_read_some). Beast's own
// permessage-deflate stays off, since it keeps a zlib stream per connection.
class inflating_input {
 public:
  using failure = core::inflating_frame_reader::failure;

  // What every connection of a server that negotiated the extension reads
  // with: one per server (server_context), so that a connection holds a
  // pointer to it, not copies.
  struct config {
    std::uint64_t max_message_bytes = 0;
    // Reports a client's breach of the extension's rules to the socket's
    // owner (the session), on the socket's thread.
    void (*on_failure)(const std::shared_ptr<void>& owner, failure found) = nullptr;
  };

  explicit inflating_input(std::size_t max_message_bytes) : reader_(max_message_bytes) {}

  bool has_ready() const { return ready_from_ < ready_.size(); }
  // Nothing waits and the reader is between frames of no message: the
  // input can go, and a fresh one takes over the next bytes.
  bool disposable() const { return !has_ready() && reader_.between_messages(); }

  // Runs the `size` bytes just read into `buffers` through the reader; what
  // it gives waits for hand_out(). The first failure is returned once.
  template <class MutableBuffers>
  std::optional<failure> take(const MutableBuffers& buffers, std::size_t size) {
    std::optional<failure> first;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         size > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::mutable_buffer piece{*it};
      const std::size_t used = std::min(size, piece.size());
      auto found =
          reader_.read(std::string_view{static_cast<const char*>(piece.data()), used}, ready_);
      if (found && !first) {
        first = found;
      }
      size -= used;
    }
    return first;
  }

  // Copies what waits into `buffers`, as much as fits.
  template <class MutableBuffers>
  std::size_t hand_out(const MutableBuffers& buffers) {
    const std::size_t copied = boost::asio::buffer_copy(
        buffers, boost::asio::buffer(ready_.data() + ready_from_, ready_.size() - ready_from_));
    ready_from_ += copied;
    if (ready_from_ == ready_.size()) {
      ready_.clear();
      ready_from_ = 0;
      if (ready_.capacity() > kept_capacity) {
        std::string().swap(ready_);  // an inflated large message: not kept while idle
      }
    }
    return copied;
  }

 private:
  static constexpr std::size_t kept_capacity = 16 * 1024;

  core::inflating_frame_reader reader_;
  std::string ready_;  // what the reader gave, not yet read by Beast
  std::size_t ready_from_ = 0;
};

}  // namespace herald::net
