#pragma once

#include <cstdint>
#include <string>

#include "herald/actors/round_ticket.hpp"
#include "herald/core/frame.hpp"

namespace herald::actors {

// What a connection actor writes to: the transport session behind it. The
// actor holds it weakly, so a closed session is freed by its own I/O
// handlers and never kept alive by the actor.
//
// Every function is called from an actor's thread; implementations hand the
// work over to their own I/O thread and never block.
class session_sink {
 public:
  virtual ~session_sink() = default;

  // `round`, when set, is held until the batch is written or dropped (see
  // round_ticket); replies and other single deliveries carry none.
  virtual void deliver(core::frame_batch_ptr batch, round_ticket_ptr round) = 0;

  // Client protocol only: the server ended the subscription to `channel`
  // that the session's join of `generation` made (the server API's
  // unsubscribe, or a subscribe refused after the fact); with `push` the
  // client is told by an unsubscribe push.
  virtual void server_unsubscribe(std::string channel, std::uint32_t generation, bool push) {
    static_cast<void>(channel);
    static_cast<void>(generation);
    static_cast<void>(push);
  }

  // Client protocol only: the server API disconnects this connection.
  virtual void server_disconnect(std::uint32_t code, std::string reason) {
    static_cast<void>(code);
    static_cast<void>(reason);
  }
};

}  // namespace herald::actors
