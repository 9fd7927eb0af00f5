#include "herald/actors/connection_actor.hpp"

#include <caf/actor_cast.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "caf_handoff.hpp"

namespace herald::actors {

connection_actor::behavior_type connection(connection_actor::pointer self,
                                           broadcaster_actor broadcaster,
                                           std::weak_ptr<session_sink> sink) {
  const auto me = [self] { return caf::actor_cast<connection_actor>(self); };
  return {
      [sink](deliver_atom, delivery& item) {
        if (auto session = sink.lock()) {
          acquire_from_caf();
          session_sink::hand(std::move(session), std::move(item));
        }
      },
      [self, broadcaster, me](publish_atom, std::string& channel,
                              core::publication_ptr& publication) {
        self->send(broadcaster, publish_atom::value, std::move(channel), std::move(publication),
                   me());
      },
      [self, broadcaster, me](publish_atom, std::string& channel,
                              core::publication_ptr& publication, std::uint32_t id) {
        self->send(broadcaster, publish_atom::value, std::move(channel), std::move(publication),
                   me(), id);
      },
      [self, broadcaster, me](connect_atom, core::connect_request& request) {
        self->send(broadcaster, connect_atom::value, me(), std::move(request));
      },
      [self, broadcaster, me](join_atom, std::string& channel,
                              core::subscription_request& request) {
        self->send(broadcaster, join_atom::value, std::move(channel), me(), std::move(request));
      },
      [self, broadcaster, me](unsubscribe_atom, std::string& channel) {
        self->send(broadcaster, unsubscribe_atom::value, std::move(channel), me());
      },
      [self, broadcaster, me](query_atom, std::string& channel, core::channel_query& query) {
        self->send(broadcaster, query_atom::value, std::move(channel), me(), std::move(query));
      },
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace herald::actors
