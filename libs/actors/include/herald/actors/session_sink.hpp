#pragma once

#include <memory>

#include "herald/actors/delivery.hpp"

namespace herald::actors {

// What a connection actor writes to: the transport session behind it. The
// actor holds it weakly, so a closed session is freed by its own I/O
// handlers and never kept alive by the actor.
//
// Called from an actor's thread; implementations hand the delivery over to
// their own I/O thread, in the order they get them, and never block. A
// round's pushes (channel_pushes::round) are held until written or dropped
// (see round_ticket).
class session_sink {
 public:
  virtual ~session_sink() = default;

  // Hands `item` to `session` (not null), with the reference the caller
  // locked it by: a transport holds its session until it takes the
  // delivery, and keeps that one rather than take another (two atomic
  // updates of a cold reference count per subscriber and round).
  static void hand(std::shared_ptr<session_sink> session, delivery&& item) {
    session_sink& sink = *session;
    sink.deliver(std::move(item), std::move(session));
  }

 protected:
  // `holder` is a reference to this sink, the implementation's to keep or
  // drop.
  virtual void deliver(delivery&& item, std::shared_ptr<session_sink>&& holder) = 0;
};

}  // namespace herald::actors
