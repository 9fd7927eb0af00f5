#include "herald/actors/connection_actor.hpp"

#include <caf/all.hpp>

namespace herald::actors {

connection_actor::behavior_type connection(connection_actor::pointer self,
                                           broadcaster_actor broadcaster,
                                           std::weak_ptr<session_sink> sink) {
  return {
      [sink = std::move(sink)](deliver_atom, core::frame_batch_ptr& batch) {
        if (auto session = sink.lock()) {
          session->deliver(std::move(batch));
        }
      },
      [self, broadcaster](publish_atom, std::string& target, core::frame_ptr& frame) {
        self->send(broadcaster, publish_atom::value, std::move(target), std::move(frame));
      },
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace herald::actors
