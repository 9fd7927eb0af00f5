#include "websocket_session.hpp"

#include <cassert>

#include "herald/core/seed_codec.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::net {

websocket_session::websocket_session(accepted_stream&& stream, server_context& ctx)
    : websocket_transport(std::move(stream), ctx, core::protocol::ws) {}

void websocket_session::run(request upgrade) {
  const auto& settings = ctx_.settings;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = settings.handshake_timeout;
  timeouts.idle_timeout = settings.idle_timeout;
  timeouts.keep_alive_pings = true;
  // Subscribe before the 101 goes out: once the client sees the handshake
  // complete, every later publication is queued behind its subscription.
  accept(std::move(upgrade), timeouts, ctx_.hub.connect(weak_from_this(), settings.seed_channel));
}

void websocket_session::on_message(std::string_view text, bool binary) {
  if (binary) {
    start_close(static_cast<std::uint16_t>(core::close_code::unsupported_data),
                "binary frames are not supported", false);
    return;
  }
  auto decoded = core::decode_seed_frame(text);
  if (!decoded.ok) {
    start_close(static_cast<std::uint16_t>(core::close_code::invalid_payload), decoded.reason,
                false);
    return;
  }
  // The message is the publication's data for every protocol; /ws
  // subscribers get it framed here, once, off the broadcaster's thread.
  std::string data = core::encode_seed_message(decoded.message);
  auto frame = core::make_frame(core::encode_text_frame(data));
  note_request(data.size());
  connection_.publish(ctx_.settings.seed_channel,
                      core::make_publication(std::move(data), std::move(frame)));
  if (at_request_bound()) {
    pause_reading();  // the broadcaster's acknowledgements read us on
  }
}

void websocket_session::on_delivery(actors::delivery&& item) {
  if (auto* pushes = std::get_if<actors::channel_pushes>(&item)) {
    enqueue(std::move(pushes->frames));
    return;
  }
  // Besides its channel's frames, the broadcaster sends a /ws session only
  // the acknowledgements of its publications: other replies, server-side
  // unsubscribes and disconnects answer client-protocol commands and API
  // calls by client, which a /ws connection never is.
  auto* reply = std::get_if<actors::command_reply>(&item);
  assert(reply != nullptr && reply->what == actors::command_reply::answering::publish &&
         "a /ws session got a client-protocol delivery");
  if (reply != nullptr) {
    note_answered(reply->count, reply->bytes);
  }
}

websocket_transport::close_advice websocket_session::slow_close() const {
  return {static_cast<std::uint16_t>(core::close_code::policy_violation), "slow consumer"};
}

websocket_transport::close_advice websocket_session::shutdown_close() const {
  return {static_cast<std::uint16_t>(core::close_code::going_away), "shutdown"};
}

}  // namespace herald::net
