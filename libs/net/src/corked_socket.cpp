#include "corked_socket.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "short_piece_coalescing.hpp"

namespace herald::net {
namespace {

// Frames handed to one sendmsg: Linux's IOV_MAX. Shared by the sessions of
// one I/O thread, since a gather list is only needed during the call.
constexpr std::size_t max_pieces = 1024;
thread_local std::array<iovec, max_pieces> gather_list;

// Where runs of a sendmsg's short frames are copied together
// (coalesce_short_pieces). One per I/O thread, like gather_list: the
// copies are needed only until the send returns.
constexpr std::size_t staging_size = 16 * 1024;
thread_local std::array<char, staging_size> short_piece_staging;

// What one TLS write takes from the queue (whole frames; a single larger
// frame goes alone). OpenSSL makes records of up to 16 KiB of it.
constexpr std::size_t tls_write_budget = 64 * 1024;

// Sends the first `pieces` entries of gather_list. A single piece (what
// every subscriber gets when a round carries one publication, or a round's
// short frames copied together) goes by sendto(): it spares the kernel
// sendmsg's copies of the message header and the iovec array from user
// space.
//
// Through syscall(), not send() and sendmsg(): in a process with more than
// one thread glibc brackets those two, as cancellation points, with two
// atomic updates of the thread's cancellation state, which cost as much as
// the rest of the library call (0.7% of the server's CPU at one publication
// per round, one send per delivery). Herald never cancels a thread; the
// system call and its result (-1 and errno) are the same. Sanitized builds
// keep the library calls, which their runtimes intercept to check the
// bytes sent (ASan) and the descriptor's use across threads (TSan).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool raw_system_calls = false;
#else
constexpr bool raw_system_calls = true;
#endif

ssize_t send_gathered(int socket, std::size_t pieces) {
  constexpr int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
  if (pieces == 1) {
    const iovec& piece = gather_list[0];
    if constexpr (raw_system_calls) {
      return ::syscall(SYS_sendto, long{socket}, piece.iov_base, piece.iov_len, long{flags},
                       nullptr, 0L);
    }
    return ::send(socket, piece.iov_base, piece.iov_len, flags);
  }
  msghdr message{};
  message.msg_iov = gather_list.data();
  message.msg_iovlen = pieces;
  if constexpr (raw_system_calls) {
    return ::syscall(SYS_sendmsg, long{socket}, &message, long{flags});
  }
  return ::sendmsg(socket, &message, flags);
}

}  // namespace

void corked_socket::flush() {
  if (tls_) {
    flush_tls();
    return;
  }
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
    pieces = coalesce_short_pieces(gather_list.data(), pieces, short_piece_staging.data(),
                                   short_piece_staging.size());
    const ssize_t sent = send_gathered(socket_.native_handle(), pieces);
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
    bytes_out_.add(static_cast<std::uint64_t>(sent));
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

void corked_socket::flush_tls() {
  auto& tls = *tls_;
  if (tls.writing || tls.broken) {
    return;
  }
  tls.staging.clear();
  tls.staging_has_beast = false;
  // During shutdown the close frame follows every queued frame.
  const bool close_waits = tls.beast_close && phase_ == phase::draining && !queue_.empty();
  if (!tls.beast_bytes.empty() && !close_waits) {
    tls.staging.swap(tls.beast_bytes);
    tls.staging_has_beast = true;
    if (tls.beast_close) {
      // Nothing may follow a close frame (RFC 6455 5.5.1).
      tls.beast_close = false;
      tls.close_sent = true;
      if (writes_delivered()) {
        enter(phase::closed);
      }
      queue_.clear();
    }
  }
  if (!tls.close_sent && writes_delivered() && !queue_.empty()) {
    // The queue hands out whole frames (nothing is ever left half-written
    // here), and they stay whole in the staging buffer.
    std::size_t taken = 0;
    queue_.gather(
        [&](const char* data, std::size_t size) {
          if (tls.staging.size() < tls_write_budget) {
            tls.staging.append(data, size);
            taken += size;
          }
        },
        max_pieces);
    queue_.consume(taken);
  }
  if (tls.staging.empty()) {
    return;
  }
  tls.writing = true;
  boost::asio::async_write(
      *tls.stream, boost::asio::buffer(tls.staging),
      [this, owner = owner_, layer = tls_](boost::system::error_code ec, std::size_t written) {
        if (owner.expired()) {
          return;  // the session is gone; `layer` kept the stream alive until now
        }
        on_tls_written(ec, written);
      });
}

void corked_socket::on_tls_written(boost::system::error_code ec, std::size_t written) {
  auto& tls = *tls_;
  tls.writing = false;
  bytes_out_.add(written);
  beast_handler finished;
  std::size_t finished_bytes = 0;
  if (tls.staging_has_beast && tls.beast_done) {
    finished.swap(tls.beast_done);  // (see take_beast_write on swap)
    finished_bytes = tls.beast_done_bytes;
  }
  if (tls.staging.capacity() > 2 * tls_write_budget) {
    std::string{}.swap(tls.staging);
  }
  if (ec) {
    // The peer is gone; the session's pending read fails and ends it.
    tls.broken = true;
    tls.beast_bytes.clear();
    queue_.clear();
    if (writes_delivered()) {
      enter(phase::failed);
    }
    if (!finished && tls.beast_done) {
      finished.swap(tls.beast_done);
    }
  } else {
    flush_tls();
  }
  if (finished) {
    // Posted: Beast's handler may end the session, and with it this layer.
    boost::asio::post(get_executor(), [done = std::move(finished), ec, finished_bytes]() mutable {
      std::move(done)(ec, ec ? 0 : finished_bytes);
    });
  }
}

void teardown(boost::beast::role_type role, corked_socket& socket, boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, socket.next_layer(), ec);
}

}  // namespace herald::net
