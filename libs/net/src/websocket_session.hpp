#pragma once

#include <memory>

#include "websocket_transport.hpp"

namespace herald::net {

// One /ws connection: the tutorial's protocol. Subscribed to the seed
// channel before the 101 goes out; each text message `{"message":..}`
// becomes a publication on it, anything else closes the connection with the
// code docs/protocol.md names. The transport (queue, reads, closing, shutdown with
// 1001) is websocket_transport's.
class websocket_session final : public websocket_transport {
 public:
  // The caller has reserved a slot in ctx.sessions for this session.
  websocket_session(accepted_stream&& stream, server_context& ctx);

  // Completes the upgrade that `upgrade` asked for.
  void run(request upgrade);

 private:
  void on_message(std::string_view text, bool binary) override;
  void on_delivery(actors::delivery&& item) override;
  close_advice slow_close() const override;
  close_advice shutdown_close() const override;
};

}  // namespace herald::net
