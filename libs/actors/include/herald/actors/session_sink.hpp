#pragma once

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
  virtual void deliver(delivery&& item) = 0;
};

}  // namespace herald::actors
