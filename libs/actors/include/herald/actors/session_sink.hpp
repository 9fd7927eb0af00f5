#pragma once

#include <memory>
#include <vector>

#include "herald/actors/delivery.hpp"

namespace herald::actors {

class delivery_route;

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

  // The way this sink's pushes can go together with other sinks' (those of
  // its I/O thread), or null: one hand() each. The same for the sink's
  // whole life.
  virtual delivery_route* route() noexcept { return nullptr; }

 protected:
  // `holder` is a reference to this sink, the implementation's to keep or
  // drop.
  virtual void deliver(delivery&& item, std::shared_ptr<session_sink>&& holder) = 0;
};

// One hand-over of the same pushes to many sessions: the broadcaster's
// round gives every subscriber of a channel the same frames, and a route
// takes those of one I/O thread at once (one lock, one reference to the
// frames and the round), where hand() would take each on its own.
class delivery_route {
 public:
  // Hands `pushes` to each of `sessions`, as hand() would one by one in
  // this order: behind what was handed to each before. Every one of them
  // gave this route as its route(); none is null.
  virtual void hand_pushes(const channel_pushes& pushes,
                           std::vector<std::shared_ptr<session_sink>>&& sessions) = 0;

 protected:
  ~delivery_route() = default;
};

}  // namespace herald::actors
