#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "herald/core/client_protocol.hpp"
#include "websocket_transport.hpp"

namespace herald::net {

// One /connection/websocket connection: Centrifugo's bidirectional client
// protocol, JSON encoding (SPEC 2.2). Decodes each frame's commands with
// core::client_protocol, answers them in one frame per read, and writes what
// its connection actor delivers (subscribe replies and publication pushes,
// framed by the broadcaster) through its corked_socket. Runs on one I/O
// thread; deliver(), begin_shutdown() and abort() may be called from any.
class client_session final : public websocket_transport {
 public:
  // The caller has reserved a slot in ctx.sessions for this session.
  client_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx);
  ~client_session() override;

  void run(request upgrade);
  void server_unsubscribe(std::string channel, std::uint32_t generation, bool push) override;
  void server_disconnect(std::uint32_t code, std::string reason) override;

 private:
  std::shared_ptr<client_session> shared_self();
  void on_open() override;
  void on_message(std::string_view text, bool binary) override;
  bool wants(const core::frame_batch& batch) override;
  close_advice slow_close() const override;
  close_advice shutdown_close() const override;
  void on_finish() override;

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
  const core::client_protocol::disconnect_advice* handle_refresh(
      std::uint32_t id, const core::client_protocol::refresh_request& request,
      std::string& replies);
  // Disconnects (3005) or unsubscribes (2501) what expired; false when the
  // connection itself expired.
  bool enforce_expiry();
  void schedule_ping();
  void on_ping_timer(beast::error_code ec);
  void disconnect(const core::client_protocol::disconnect_advice& advice);
  // Who this client is in its publications on `channel` (their `info`).
  std::shared_ptr<const core::publisher_info> publisher_for(const std::string& channel) const;
  // Drops what the session keeps per channel besides channels_.
  void forget_channel(const std::string& channel);

  boost::asio::steady_timer ping_timer_;
  std::string client_id_;
  std::string user_;
  // Subscribed channels, each with the generation of the join that made it.
  std::unordered_map<std::string, std::uint32_t> channels_;
  std::uint32_t next_generation_ = 1;
  std::optional<std::int64_t> expires_at_;                        // the connect token's `exp`
  std::unordered_map<std::string, std::int64_t> channel_expiry_;  // channel token `exp`s
  std::shared_ptr<const core::publisher_info> publisher_;         // set by connect
  // Channels whose token gave channel info: publications carry it.
  std::unordered_map<std::string, std::shared_ptr<const core::publisher_info>> channel_publishers_;
  bool connected_ = false;                // the connect command succeeded
  bool awaiting_pong_ = false;            // a ping went out and no pong came back yet
  std::uint32_t requests_in_flight_ = 0;  // joins and queries not answered yet
};

}  // namespace herald::net
