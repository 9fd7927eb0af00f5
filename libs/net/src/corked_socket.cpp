#include "corked_socket.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>

namespace herald::net {
namespace {

// Frames handed to one sendmsg: Linux's IOV_MAX. Shared by the sessions of
// one I/O thread, since a gather list is only needed during the call.
constexpr std::size_t max_pieces = 1024;
thread_local std::array<iovec, max_pieces> gather_list;

}  // namespace

void corked_socket::flush() {
  while (writes_delivered() && beast_ != beast_write::writing && !waiting_writable_ &&
         !queue_.empty()) {
    // While Beast waits to write, finish only the frame that is partly out
    // (draining: Beast waits for the whole queue anyway).
    const bool current_frame_only = beast_ == beast_write::waiting && phase_ != phase::draining;
    if (current_frame_only && !queue_.mid_frame()) {
      return;
    }
    std::size_t pieces = 0;
    const std::size_t gathered = queue_.gather(
        [&](const char* data, std::size_t size) {
          gather_list[pieces++] = iovec{const_cast<char*>(data), size};
        },
        max_pieces, current_frame_only);
    if (pieces == 0) {
      return;  // cannot happen while bytes are queued; never spin on it
    }
    msghdr message{};
    message.msg_iov = gather_list.data();
    message.msg_iovlen = pieces;
    const ssize_t sent = ::sendmsg(socket_.native_handle(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wait_until_writable();
        return;
      }
      // The peer is gone; the session's pending read fails and ends it.
      enter(phase::failed);
      queue_.clear();
      return;
    }
    bytes_out_.fetch_add(static_cast<std::uint64_t>(sent), std::memory_order_relaxed);
    queue_.consume(static_cast<std::size_t>(sent));
    if (static_cast<std::size_t>(sent) < gathered) {
      wait_until_writable();
      return;
    }
  }
}

void corked_socket::wait_until_writable() {
  waiting_writable_ = true;
  socket_.async_wait(socket_type::wait_write, [this, owner = owner_](boost::system::error_code ec) {
    if (ec || owner.expired()) {
      return;  // the socket was closed or its session is gone: so may be this layer
    }
    waiting_writable_ = false;
    flush();
  });
}

void teardown(boost::beast::role_type role, corked_socket& socket, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, socket.next_layer(), ec);
}

}  // namespace herald::net
