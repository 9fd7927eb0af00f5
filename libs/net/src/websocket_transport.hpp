#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "corked_socket.hpp"
#include "herald/actors/hub.hpp"
#include "herald/actors/session_sink.hpp"
#include "http_responses.hpp"
#include "server_context.hpp"
#include "write_scheduler.hpp"

namespace herald::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

// What both WebSocket endpoints share: the accepted stream over a
// corked_socket, the idle one-byte read and whole-message reads, the
// outbound queue bounded by client-queue-max-bytes, the closing handshake
// with its deadline, graceful shutdown and the /metrics bookkeeping. The
// protocols (websocket_session for /ws, client_session for Centrifugo's
// client protocol) supply what differs through the hooks below.
//
// Runs on one I/O thread; deliver(), begin_shutdown(), abort() and the
// session_sink calls may come from any thread.
class websocket_transport : public std::enable_shared_from_this<websocket_transport>,
                            public scheduled_sink,
                            public live_session {
 public:
  // The connection counts against `address`'s limits (address_gate) until
  // it ends; "" when they are off.
  void hold_address(std::string address);

  // A client that negotiated permessage-deflate broke its rules: closes
  // with the failure's code. `owner` is the session, as its socket holds it.
  static void compression_failed(const std::shared_ptr<void>& owner,
                                 inflating_input::failure failure);

  void begin_shutdown() final;  // flush what is queued, then shutdown_close()
  void abort() final;           // cut the connection now

 protected:
  // Where the connection is in its life. Every change goes through enter(),
  // which checks it is one of these:
  //   handshaking -> open        the 101 went out
  //   handshaking -> finished    the handshake failed, or was cut
  //   open -> closing            our close frame is on its way
  //   open -> finished           the peer closed, or the socket failed
  //   closing -> finished        the closing handshake ended, or timed out
  enum class phase : std::uint8_t {
    handshaking,  // deliveries queue up; nothing of theirs is written
    open,         // messages flow both ways
    closing,      // nothing new is queued; reads only drain to the close
    finished,     // socket done, actor and registry slot released
  };

  struct close_advice {
    std::uint16_t code;
    std::string_view reason;
  };

  // The caller has reserved a slot in ctx.sessions for this session.
  websocket_transport(accepted_stream&& stream, server_context& ctx, core::protocol protocol);
  ~websocket_transport() override;

  // Completes the upgrade with Beast's `timeouts`. `connection` is the
  // session's actor, spawned (and for /ws subscribed) before the 101 goes
  // out, so that every later publication is queued behind it.
  void accept(request upgrade, websocket::stream_base::timeout timeouts,
              actors::connection_handle connection);

  // Queues `text` as one text frame.
  void send_text(std::string_view text);

  // Back-pressure: called from on_message(), the next message is not read
  // until resume_reading(), so TCP holds the client back while the work it
  // made for the broadcaster is at its bound. Beast still answers pings and
  // closes meanwhile.
  void pause_reading();
  void resume_reading();
  bool reading_paused() const { return reader_ == reader::paused; }

  // What this connection asked of the broadcaster and has not had answered
  // (every request gets exactly one reply), and the bytes of the
  // publications among them. Past a bound the protocol stops handling the
  // client's messages (pause_reading) until replies bring it back under:
  //  - 64 requests, or max(1 MiB, max-message-bytes) of publications, for
  //    this connection;
  //  - publish-backlog-bytes of publications for the whole server; a
  //    connection held back by that alone looks again every 10 ms, since
  //    other connections' replies do not reach it.
  void note_request(std::uint64_t publication_bytes = 0);
  void note_answered(std::uint32_t count, std::uint64_t publication_bytes);
  bool at_request_bound() const;
  // Replies brought a connection whose reading is paused back under every
  // bound: the protocol goes on (resume_reading, or the rest of a frame).
  virtual void on_requests_drained() { resume_reading(); }

  // Queues frames the broadcaster framed, unless the connection is closing.
  void enqueue(core::frame_batch_ptr batch);
  // Queues a frame of at least `at_least` bytes that `append` writes, or,
  // when the client's queue could not take that much, closes it as slow
  // without making the frame (see actors::deferred_text).
  void enqueue_deferred(std::size_t at_least, const std::function<void(std::string&)>& append);

  // Closes with `code`. keep_queued: the close frame follows what is
  // queued (shutdown); otherwise what was not started is dropped.
  void start_close(std::uint16_t code, std::string_view reason, bool keep_queued);

  // The socket is done: the protocol's on_finish(), then the connection
  // actor and the registry slot go. (The destructor releases them too, if
  // the session ends without this; it calls no hook, since the protocol's
  // part is gone by then.)
  void finish();

  phase current_phase() const { return phase_; }
  // Open and not closing: replies and pushes may still be queued.
  bool is_open() const { return phase_ == phase::open; }

  // Hooks.
  virtual void on_open() {}  // the 101 went out
  // A whole message arrived (never while closing).
  virtual void on_message(std::string_view text, bool binary) = 0;
  // What the connection actor handed over, on the session's thread.
  virtual void on_delivery(actors::delivery&& item) = 0;
  virtual close_advice slow_close() const = 0;      // the queue overflowed
  virtual close_advice shutdown_close() const = 0;  // SIGTERM
  virtual void on_finish() {}  // the socket is done (not called from the destructor)

  // Beast's own permessage-deflate compiled out (deflateSupported = false):
  // Herald does the extension itself, without a zlib stream per connection
  // (see corked_socket::inflate_incoming and core::deflated).
  websocket::stream<corked_socket, false> ws_;
  server_context& ctx_;
  server_counters::per_protocol& figures_;  // this endpoint's /metrics figures
  actors::connection_handle connection_;

 private:
  void enter(phase next);
  // What finish() and the destructor both do: figures, actor, registry.
  void release();
  void on_accept(beast::error_code ec);
  void await_message();
  void on_message_start(beast::error_code ec, std::size_t bytes);
  void on_read(beast::error_code ec, std::size_t bytes);
  void read_failed(beast::error_code ec);
  void receive(actors::delivery&& item) final;
  void write_pending() final;
  void prefetch_for_write(int step) noexcept final;
  session_ref scheduled_self() final;

  void close_as_slow();  // the client's queue overflowed: 1008 or 3008
  bool at_own_bound() const;
  void wait_for_drain();
  void check_backlog_later();

  phase phase_ = phase::handshaking;
  std::uint32_t requests_in_flight_ = 0;
  std::uint64_t publication_bytes_in_flight_ = 0;
  // Only a connection the server-wide backlog held back has one.
  std::unique_ptr<boost::asio::steady_timer> backlog_timer_;
  // The session itself, while reading is paused (see pause_reading).
  std::shared_ptr<websocket_transport> paused_self_;
  bool backlog_waiting_ = false;  // its wait is pending
  // The read side: a read is pending, or a message is being handled (the
  // next read starts when the handler returns), or reading is paused.
  enum class reader : std::uint8_t { reading, handling, paused };
  reader reader_ = reader::reading;
  // What hold_address() gave; null (8 bytes, not a string's 32, on every
  // idle connection) when the per-address limits are off.
  std::unique_ptr<const std::string> held_address_;
  // The peer named in the debug lines; null while they are off.
  std::unique_ptr<const std::string> peer_for_log_;
  const core::protocol protocol_;
  // permessage-deflate was negotiated: frames go out compressed where
  // worth it (compressed once per batch, see core::deflated), and the
  // client's compressed messages are inflated under Beast.
  bool deflates_ = false;
  // The close code this connection ends with, for /metrics: ours when we
  // close, the peer's when it does, 1006 when the socket just went away.
  std::uint16_t close_code_ = 1006;

  beast::flat_buffer buffer_;
  char first_byte_ = 0;  // where a message's first byte lands; see await_message()
  boost::asio::steady_timer close_deadline_;
};

}  // namespace herald::net
