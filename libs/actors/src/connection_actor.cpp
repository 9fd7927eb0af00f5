#include "herald/actors/connection_actor.hpp"

#include <caf/all.hpp>

namespace herald::actors {

connection_actor::behavior_type connection(connection_actor::pointer self,
                                           broadcaster_actor broadcaster,
                                           std::weak_ptr<session_sink> sink) {
  return {
      [sink](deliver_atom, core::frame_batch_ptr& batch, round_ticket_ptr& round) {
        if (auto session = sink.lock()) {
          session->deliver(std::move(batch), std::move(round));
        }
      },
      [self, broadcaster](publish_atom, std::string& channel, core::publication_ptr& publication) {
        self->send(broadcaster, publish_atom::value, std::move(channel), std::move(publication));
      },
      [self, broadcaster](hello_atom, core::client_identity& identity) {
        self->send(broadcaster, hello_atom::value, caf::actor_cast<connection_actor>(self),
                   std::move(identity));
      },
      [self, broadcaster](connect_atom, core::connect_reply_request& request) {
        self->send(broadcaster, connect_atom::value, caf::actor_cast<connection_actor>(self),
                   std::move(request));
      },
      [self, broadcaster](join_atom, std::string& channel, core::join_request& request) {
        self->send(broadcaster, join_atom::value, std::move(channel),
                   caf::actor_cast<connection_actor>(self), std::move(request));
      },
      [self, broadcaster](unsubscribe_atom, std::string& channel) {
        self->send(broadcaster, unsubscribe_atom::value, std::move(channel),
                   caf::actor_cast<connection_actor>(self));
      },
      [self, broadcaster](query_atom, std::string& channel, core::channel_query& query) {
        self->send(broadcaster, query_atom::value, std::move(channel),
                   caf::actor_cast<connection_actor>(self), std::move(query));
      },
      [sink](kick_atom, std::string& channel, std::uint32_t generation, bool push) {
        if (auto session = sink.lock()) {
          session->server_unsubscribe(std::move(channel), generation, push);
        }
      },
      [sink](disconnect_atom, std::uint32_t code, std::string& reason) {
        if (auto session = sink.lock()) {
          session->server_disconnect(code, std::move(reason));
        }
      },
      [self](close_atom) { self->quit(); },
  };
}

}  // namespace herald::actors
