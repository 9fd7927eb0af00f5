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
// protocol, JSON encoding (docs/protocol.md). Decodes each frame's commands
// with core::client_protocol; answers what concerns the connection alone
// (connect, refresh, pings, malformed commands) in one frame per read, and
// hands what concerns channels to the broadcaster, which decides it by the
// channel policy and answers through the deliveries, with the channels'
// pushes. Runs on one I/O thread; deliver(), begin_shutdown() and abort()
// may be called from any.
class client_session final : public websocket_transport {
 public:
  // The caller has reserved a slot in ctx.sessions for this session.
  client_session(accepted_stream&& stream, server_context& ctx);

  void run(request upgrade);

 private:
  // A channel the client subscribed to, or asked to: a subscription is
  // settled by the broadcaster's reply, and only a settled one takes the
  // channel's pushes.
  struct subscription {
    std::uint32_t generation = 0;  // which join of the channel this is
    bool settled = false;
    std::optional<std::int64_t> expires_at;  // the channel token's `exp`
    // The client in its publications on the channel, with the channel
    // token's info; null: publisher_.
    std::shared_ptr<const core::publisher_info> publisher;
  };

  std::shared_ptr<client_session> shared_self();
  void on_open() override;
  void on_message(std::string_view text, bool binary) override;
  void on_delivery(actors::delivery&& item) override;
  void on_pushes(actors::channel_pushes&& pushes);
  void on_reply(actors::command_reply&& reply);
  void on_server_unsubscribe(const actors::server_unsubscribe& unsubscribe);
  void on_server_disconnect(actors::server_disconnect disconnect);
  close_advice slow_close() const override;
  close_advice shutdown_close() const override;
  void on_finish() override;

  // Handles frame_'s commands from next_command_ on, while the connection
  // is under its bounds on requests at the broadcaster.
  void handle_commands();
  void on_requests_drained() override;
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
  // presence, presence_stats, history: answered by the broadcaster.
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

  boost::asio::steady_timer ping_timer_;
  // The frame being handled: the rest of its commands wait while the
  // connection is at its bound on requests at the broadcaster.
  core::client_protocol::frame_decode_result frame_;
  std::size_t next_command_ = 0;
  std::string client_id_;
  std::string user_;
  std::unordered_map<std::string, subscription> subscriptions_;
  std::uint32_t next_generation_ = 1;
  std::optional<std::int64_t> expires_at_;                 // the connect token's `exp`
  std::shared_ptr<const core::publisher_info> publisher_;  // set by connect
  bool connected_ = false;                                 // the connect command succeeded
  bool dashboard_ = false;               // admitted by a dashboard token: the stats channel only
  bool awaiting_pong_ = false;           // a ping went out and no pong came back yet
  std::uint32_t queries_in_flight_ = 0;  // presence/history reads not answered yet
};

}  // namespace herald::net
