#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "corked_socket.hpp"
#include "herald/actors/hub.hpp"
#include "herald/actors/session_sink.hpp"
#include "herald/core/client_protocol.hpp"
#include "http_responses.hpp"
#include "server_context.hpp"

namespace herald::net {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

// One /connection/websocket connection: Centrifugo's bidirectional client
// protocol, JSON encoding (SPEC 2.2). Decodes each frame's commands with
// core::client_protocol, answers them in one frame per read, and writes what
// its connection actor delivers (subscribe replies and publication pushes,
// framed by the broadcaster) through its corked_socket. Runs on one I/O
// thread; deliver(), begin_shutdown() and abort() may be called from any.
class client_session : public std::enable_shared_from_this<client_session>,
                       public actors::session_sink,
                       public live_session {
 public:
  // The caller has reserved a slot in ctx.sessions for this session.
  client_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);
  ~client_session() override;

  void run(request upgrade);
  void deliver(core::frame_batch_ptr batch) override;
  void server_unsubscribe(std::string channel, bool push) override;
  void server_disconnect(std::uint32_t code, std::string reason) override;
  void begin_shutdown() override;  // flush, then close 3001 "shutdown"
  void abort() override;

 private:
  void on_accept(beast::error_code ec);
  void await_message();
  void on_message_start(beast::error_code ec, std::size_t bytes);
  void on_read(beast::error_code ec, std::size_t bytes);
  void read_failed(beast::error_code ec);
  void handle_frame(std::string_view frame);
  // Appends the reply to `command` (if any) to `replies`; returns the
  // disconnect the command calls for, if any.
  const core::client_protocol::disconnect_advice* handle(
      const core::client_protocol::command& command, std::string& replies);
  const core::client_protocol::disconnect_advice* handle_connect(
      std::uint32_t id, const core::client_protocol::connect_request& request,
      std::string& replies);
  const core::client_protocol::disconnect_advice* handle_subscribe(
      std::uint32_t id, const core::client_protocol::subscribe_request& request,
      std::string& replies);
  // presence, presence_stats, history: checked here, answered by the
  // broadcaster.
  void query(std::uint32_t id, const std::string& channel, core::channel_query request,
             std::string& replies);
  const core::client_protocol::disconnect_advice* handle_sub_refresh(
      std::uint32_t id, const core::client_protocol::sub_refresh_request& request,
      std::string& replies);
  // Disconnects (3005) or unsubscribes (2501) what expired; false when the
  // connection itself expired.
  bool enforce_expiry();
  const core::client_protocol::disconnect_advice* handle_refresh(
      std::uint32_t id, const core::client_protocol::refresh_request& request,
      std::string& replies);
  void send_text(std::string text);
  void enqueue(core::frame_batch_ptr batch);
  void schedule_ping();
  void on_ping_timer(beast::error_code ec);
  void disconnect(const core::client_protocol::disconnect_advice& advice);
  void start_close(std::uint16_t code, std::string_view reason, bool keep_queued);
  void finish();

  websocket::stream<corked_socket> ws_;
  beast::flat_buffer buffer_;
  char first_byte_ = 0;  // where a message's first byte lands; see await_message()
  server_context& ctx_;
  actors::connection_handle connection_;
  boost::asio::steady_timer close_deadline_;
  boost::asio::steady_timer ping_timer_;
  std::string client_id_;
  std::string user_;
  std::unordered_set<std::string> channels_;
  std::optional<std::int64_t> expires_at_;  // the connect token's `exp`
  std::unordered_map<std::string, std::int64_t> channel_expiry_;  // channel token `exp`s
  std::uint16_t close_code_ = 1006;
  bool accepted_ = false;
  bool connected_ = false;      // the connect command succeeded
  bool awaiting_pong_ = false;  // a ping went out and no pong came back yet
  bool closing_ = false;
  bool shutting_down_ = false;
  bool finished_ = false;
};

}  // namespace herald::net
