#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include <string>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include "accepted_stream.hpp"
#include "herald/core/outbound_queue.hpp"
#include "inflating_input.hpp"
#include "per_thread_counter.hpp"
#include "prefetch.hpp"

namespace herald::net {

// The next layer under each session's websocket::stream, and the session's
// write path.
//
// Delivered frames do not go through Beast's async_write: they were framed
// once per publication (a server never masks, so the bytes are the same for
// every subscriber) and wait in this layer's outbound_queue, shared with the
// other subscribers. flush() hands everything queued to one sendmsg, so a
// socket costs one system call per turn however many frames it gets
// (corking). Beast still writes its own frames through async_write_some: the
// 101, pongs, keep-alive pings and the close frame.
//
// The two writers never interleave inside a frame: Beast's write waits while
// a delivered frame is partly written (and, once drain_before_close() was
// called, until the queue is empty), and deliveries wait while Beast writes.
//
// Over TLS the same queue feeds OpenSSL instead of sendmsg: flush() copies
// what is queued (whole frames, up to 64 KiB) into one buffer and hands it
// to one TLS write, which OpenSSL cuts into records of at most 16 KiB, one
// send each; what arrives meanwhile goes in the next write. Beast's own
// frames join the next write at a frame boundary (before the deliveries; a
// close frame during shutdown after them), and its write completes once
// they are on the wire, so its teardown never overtakes them.
class corked_socket {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using next_layer_type = socket_type;

  corked_socket(accepted_stream&& stream, std::size_t max_queue_bytes,
                per_thread_counter& bytes_out)
      : socket_(std::move(stream.socket)), queue_(max_queue_bytes), bytes_out_(bytes_out) {
    if (stream.tls) {
      tls_ = std::make_shared<tls_layer>(std::move(stream.tls));
    }
  }
  // A TLS write in flight holds the layer (its stream and buffer) until it
  // completes: Asio's SSL stream touches itself when an operation completes,
  // even a cancelled one, so it must outlive the session if the session
  // ends first. Closing the socket makes that completion come at once.
  ~corked_socket() {
    if (tls_ && tls_->writing) {
      boost::system::error_code ignored;
      tls_->stream->next_layer().socket().close(ignored);
    }
  }
  corked_socket(const corked_socket&) = delete;
  corked_socket& operator=(const corked_socket&) = delete;

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  // The TCP socket, under TLS when there is TLS.
  socket_type& next_layer() noexcept {
    return tls_ ? tls_->stream->next_layer().socket() : socket_;
  }

  core::outbound_queue& queue() noexcept { return queue_; }

  // Ties the layer's handlers to its owner (the session, which holds the
  // websocket::stream holding this layer): a completion that runs after the
  // owner is gone touches nothing.
  void set_owner(std::weak_ptr<void> owner) noexcept { owner_ = std::move(owner); }

  // The handshake succeeded: delivered frames may go out from now on. Until
  // then only Beast writes (the 101, or the error response to a bad upgrade).
  void start() noexcept { enter(phase::open); }

  // Writes what is queued as far as the socket takes it now; if the socket
  // is full, waits until it drains and goes on by itself. Call on the
  // socket's thread after pushing to queue().
  void flush();
  // Start loading what flush() reads: this layer; its queue's first batch
  // pointer (read from this layer, so after prefetch_layer()).
  void prefetch_layer() const noexcept { prefetch_lines(this, sizeof *this); }
  void prefetch_queue() const noexcept { queue_.prefetch_front(); }

  // Beast's close frame waits until every queued frame is written. (A layer
  // whose writes failed has nothing left to drain.)
  void drain_before_close() noexcept {
    if (phase_ == phase::open) {
      enter(phase::draining);
    }
  }

  // permessage-deflate was negotiated: what the client sends is read
  // through an inflating_input. When the client breaks the extension's
  // rules, config.on_failure runs (posted, on the socket's thread) with the
  // close code; meanwhile its data frames are dropped and only its control
  // frames reach Beast. The input exists only while bytes of a frame or a
  // message are in it: an idle connection holds none.
  void inflate_incoming(const inflating_input::config& config) noexcept {
    inflate_config_ = &config;
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (inflate_config_ == nullptr) {
      return raw_read_some(buffers, std::forward<Handler>(handler));
    }
    return boost::asio::async_initiate<Handler, void(boost::system::error_code, std::size_t)>(
        [this](auto done, const MutableBuffers& into) { read_inflated(into, std::move(done)); },
        handler, buffers);
  }

 private:
  // The bytes as they come off the socket (out of TLS when there is TLS).
  template <class MutableBuffers, class Handler>
  auto raw_read_some(const MutableBuffers& buffers, Handler&& handler) {
    if (tls_) {
      return tls_->stream->async_read_some(buffers, std::forward<Handler>(handler));
    }
    return socket_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  // Beast's read through the inflating_input: what the input has ready is
  // handed over first; otherwise the socket is read into Beast's buffer,
  // the bytes go through the input, and what comes out is copied back into
  // that buffer. A read that gives nothing (a compressed message still
  // arriving) reads again, so Beast never sees a read of zero bytes.
  template <class MutableBuffers, class Handler>
  void read_inflated(const MutableBuffers& buffers, Handler&& done) {
    using handler_type = std::decay_t<Handler>;
    if (inflating_ && inflating_->has_ready()) {
      // Never complete inside the initiation: the bytes go from a posted call.
      const auto executor = boost::asio::get_associated_executor(done, get_executor());
      boost::asio::post(executor,
                        [this, buffers, handler = handler_type(std::move(done))]() mutable {
                          const std::size_t copied = hand_out_inflated(buffers);
                          std::move(handler)(boost::system::error_code{}, copied);
                        });
      return;
    }
    raw_read_some(buffers, inflating_read_handler<MutableBuffers, handler_type>{*this, buffers,
                                                                                std::move(done)});
  }

  // The socket read's completion on the way to Beast's handler. Written by
  // hand rather than with async_compose: this operation is pending on every
  // idle connection that negotiated the extension, and a composed
  // operation's state and work guard made each of those about 0.1 KB
  // larger. It carries Beast's handler's executor, allocator and
  // cancellation slot, as an intermediate handler must.
  template <class MutableBuffers, class Handler>
  struct inflating_read_handler {
    corked_socket& layer;
    MutableBuffers buffers;
    Handler handler;

    void operator()(boost::system::error_code ec, std::size_t read) {
      if (ec) {
        std::move(handler)(ec, std::size_t{0});
        return;
      }
      auto& input = layer.inflating_;
      if (!input) {
        input = std::make_unique<inflating_input>(layer.inflate_config_->max_message_bytes);
      }
      if (auto failure = input->take(buffers, read)) {
        boost::asio::post(
            layer.get_executor(),
            [owner = layer.owner_, report = layer.inflate_config_->on_failure, found = *failure] {
              if (const auto alive = owner.lock()) {
                report(alive, found);
              }
            });
      }
      if (!input->has_ready()) {
        if (input->disposable()) {
          input.reset();
        }
        layer.raw_read_some(buffers, std::move(*this));
        return;
      }
      const std::size_t copied = layer.hand_out_inflated(buffers);
      std::move(handler)(boost::system::error_code{}, copied);
    }

    using executor_type = boost::asio::associated_executor_t<Handler, corked_socket::executor_type>;
    executor_type get_executor() const noexcept {
      return boost::asio::get_associated_executor(handler, layer.get_executor());
    }
    using allocator_type = boost::asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept {
      return boost::asio::get_associated_allocator(handler);
    }
    using cancellation_slot_type = boost::asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return boost::asio::get_associated_cancellation_slot(handler);
    }
  };

  // Copies what the inflating input has ready into Beast's buffers; drops
  // the input once it is empty between messages.
  template <class MutableBuffers>
  std::size_t hand_out_inflated(const MutableBuffers& buffers) {
    const std::size_t copied = inflating_->hand_out(buffers);
    if (inflating_->disposable()) {
      inflating_.reset();
    }
    return copied;
  }

 public:
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (tls_) {
      return boost::asio::async_initiate<Handler, void(boost::system::error_code, std::size_t)>(
          [this](auto completion, const ConstBuffers& frames) {
            take_beast_write(frames, beast_handler{std::move(completion)});
          },
          handler, buffers);
    }
    return boost::asio::async_compose<Handler, void(boost::system::error_code, std::size_t)>(
        beast_write_op<ConstBuffers>{*this, buffers}, handler, socket_);
  }

 private:
  // Where the connection is, as far as this layer's writes go. Each change
  // goes through enter(), which checks it is one of these:
  //   handshake -> open          start(): the 101 is out
  //   open -> draining           drain_before_close(): shutdown
  //   open, draining -> closed   Beast wrote the close frame
  //   open, draining -> failed   a write failed: the peer is gone
  enum class phase : std::uint8_t {
    handshake,  // only Beast writes
    open,       // delivered frames go out
    draining,   // ... and Beast's close frame waits until they all have
    closed,     // nothing may follow the close frame (RFC 6455 5.5.1)
    failed,     // nothing more is written
  };

  // What Beast's one write in flight (Beast never starts two) is doing.
  enum class beast_write : std::uint8_t {
    none,
    waiting,  // for a frame boundary, or (draining) for the queue to empty
    writing,  // its bytes are going out; delivered frames wait
  };

  void enter(phase next) noexcept {
    const bool allowed = (phase_ == phase::handshake && next == phase::open) ||
                         (phase_ == phase::open && next == phase::draining) ||
                         ((phase_ == phase::open || phase_ == phase::draining) &&
                          (next == phase::closed || next == phase::failed));
    assert(allowed && "corked_socket: a phase change the state machine does not have");
    static_cast<void>(allowed);
    phase_ = next;
  }

  bool writes_delivered() const noexcept {
    return phase_ == phase::open || phase_ == phase::draining;
  }

  // One of Beast's writes: waits for a frame boundary, then writes all of
  // Beast's bytes before completing, so Beast never stops inside a frame
  // either. After an error the layer may be gone and is not touched.
  template <class ConstBuffers>
  struct beast_write_op {
    corked_socket& layer;
    ConstBuffers buffers;
    std::weak_ptr<void> owner;
    enum class step { start, waiting, writing } state = step::start;

    beast_write_op(corked_socket& layer, const ConstBuffers& buffers)
        : layer(layer), buffers(buffers), owner(layer.owner_) {}

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t written = 0) {
      if (state != step::start && owner.expired()) {
        // The layer is gone with its session: touch nothing, stop here.
        self.complete(ec ? ec : boost::asio::error::operation_aborted, 0);
        return;
      }
      if (ec) {
        layer.beast_ = beast_write::none;
        self.complete(ec, 0);
        return;
      }
      if (state == step::writing) {
        layer.beast_ = beast_write::none;
        layer.bytes_out_.add(written);
        if (is_close_frame(buffers) && layer.writes_delivered()) {
          // Nothing may follow a close frame (RFC 6455 5.5.1).
          layer.enter(phase::closed);
          layer.queue_.clear();
        } else {
          layer.flush();
        }
        self.complete(ec, written);
        return;
      }
      if (layer.beast_must_wait()) {
        layer.beast_ = beast_write::waiting;
        // Let the delivered frames move first; wait only behind a wait of
        // theirs, which the socket's next writability wakes in order.
        if (!layer.waiting_writable_) {
          layer.flush();
        }
        if (layer.beast_must_wait() && layer.waiting_writable_) {
          state = step::waiting;
          layer.socket_.async_wait(socket_type::wait_write, std::move(self));
          return;
        }
      }
      layer.beast_ = beast_write::writing;
      state = step::writing;
      boost::asio::async_write(layer.socket_, buffers, std::move(self));
    }
  };

  // Beast hands each of its frames over in one call (this layer never
  // reports a partial write), so the first byte tells a close frame.
  template <class ConstBuffers>
  static bool is_close_frame(const ConstBuffers& buffers) {
    constexpr unsigned char fin_close = 0x88;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      const boost::asio::const_buffer piece{*it};
      if (piece.size() > 0) {
        return *static_cast<const unsigned char*>(piece.data()) == fin_close;
      }
    }
    return false;
  }

  bool beast_must_wait() const {
    return queue_.mid_frame() || (phase_ == phase::draining && !queue_.empty());
  }
  void wait_until_writable();

  // TLS.
  using beast_handler =
      boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  struct tls_layer {
    explicit tls_layer(std::unique_ptr<tls_stream> secure) : stream(std::move(secure)) {}
    std::unique_ptr<tls_stream> stream;
    std::string beast_bytes;   // Beast's frames, not yet in a TLS write
    bool beast_close = false;  // ... and they end with the close frame
    beast_handler beast_done;  // Beast's write, done when its bytes are out
    std::size_t beast_done_bytes = 0;
    std::string staging;   // what the TLS write in flight encrypts
    bool writing = false;  // a TLS write is in flight (at most one)
    bool staging_has_beast = false;
    bool close_sent = false;  // nothing may follow
    bool broken = false;      // a write failed: nothing more is written
  };

  template <class ConstBuffers>
  void take_beast_write(const ConstBuffers& buffers, beast_handler handler) {
    const std::size_t size = boost::asio::buffer_size(buffers);
    auto& tls = *tls_;
    if (tls.broken || tls.close_sent) {
      boost::asio::post(get_executor(), [done = std::move(handler)]() mutable {
        std::move(done)(boost::asio::error::broken_pipe, 0);
      });
      return;
    }
    const std::size_t before = tls.beast_bytes.size();
    tls.beast_bytes.resize(before + size);
    boost::asio::buffer_copy(boost::asio::buffer(tls.beast_bytes.data() + before, size), buffers);
    tls.beast_close = tls.beast_close || is_close_frame(buffers);
    // swap, not move assignment: Boost 1.81's any_completion_handler move
    // assignment copies its operand into a new wrapper, recursively.
    tls.beast_done.swap(handler);
    tls.beast_done_bytes = size;
    flush_tls();
  }
  void flush_tls();
  void on_tls_written(boost::system::error_code ec, std::size_t written);

  socket_type socket_;
  std::shared_ptr<tls_layer> tls_;  // null: plain TCP; shared with a write in flight
  core::outbound_queue queue_;
  per_thread_counter& bytes_out_;
  std::weak_ptr<void> owner_;
  // permessage-deflate's read side: the server's settings when negotiated
  // (else null), and the input while a frame or message is in it.
  const inflating_input::config* inflate_config_ = nullptr;
  std::unique_ptr<inflating_input> inflating_;
  phase phase_ = phase::handshake;
  beast_write beast_ = beast_write::none;
  // This layer's own wait for writability is pending (at most one): what
  // the socket did not take goes out when it wakes. Beast's write may wait
  // on the same socket behind it; the two waits are separate operations.
  bool waiting_writable_ = false;
};

// Beast tears a WebSocket connection down through its next layer's
// teardown, found by argument-dependent lookup: the socket's does the work.
void teardown(boost::beast::role_type role, corked_socket& socket, boost::system::error_code& ec);

template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, corked_socket& socket,
                    TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, socket.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace herald::net
