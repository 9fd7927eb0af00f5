#pragma once

#include "herald/core/frame.hpp"

namespace herald::actors {

// What a connection actor writes to: the transport session behind it. The
// actor holds it weakly, so a closed session is freed by its own I/O
// handlers and never kept alive by the actor.
class session_sink {
 public:
  virtual ~session_sink() = default;

  // Called from an actor's thread; implementations hand the batch over to
  // their own I/O thread and never block.
  virtual void deliver(core::frame_batch_ptr batch) = 0;
};

}  // namespace herald::actors
