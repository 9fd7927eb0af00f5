#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "herald/actors/hub.hpp"
#include "herald/actors/session_sink.hpp"
#include "corked_socket.hpp"
#include "herald/core/seed_codec.hpp"
#include "http_responses.hpp"
#include "server_context.hpp"

namespace herald::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

// One /ws connection: the tutorial's protocol. Reads client messages and
// hands them to its connection actor; writes what the actor delivers through
// its corked_socket, behind a queue bounded by client-queue-max-bytes. Runs
// on one I/O thread; deliver() and begin_shutdown() may be called from any.
class websocket_session : public std::enable_shared_from_this<websocket_session>,
                          public actors::session_sink,
                          public live_session {
 public:
  // The caller has reserved a slot in ctx.sessions for this session.
  websocket_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);
  ~websocket_session() override;

  // Completes the upgrade that `upgrade` asked for.
  void run(request upgrade);

  void deliver(core::frame_batch_ptr batch) override;

  // Flush what is queued, then close with 1001.
  void begin_shutdown() override;

  // Cut the connection now (shutdown-timeout passed).
  void abort() override;

 private:
  void on_accept(beast::error_code ec);
  void await_message();
  void on_message_start(beast::error_code ec, std::size_t bytes);
  void on_read(beast::error_code ec, std::size_t bytes);
  void read_failed(beast::error_code ec);
  void enqueue(core::frame_batch_ptr batch);
  void start_close(core::close_code code, std::string_view reason);
  void finish();

  websocket::stream<corked_socket> ws_;
  beast::flat_buffer buffer_;
  char first_byte_ = 0;  // where a message's first byte lands; see await_message()
  server_context& ctx_;
  actors::connection_handle connection_;
  boost::asio::steady_timer close_deadline_;
  // The close code this connection ends with, for /metrics: ours when we
  // close, the peer's when it does, 1006 when the socket just went away.
  std::uint16_t close_code_ = 1006;
  bool accepted_ = false;
  bool closing_ = false;
  bool shutting_down_ = false;
  bool finished_ = false;
};

}  // namespace herald::net
