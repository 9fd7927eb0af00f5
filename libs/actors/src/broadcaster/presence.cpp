#include "presence.hpp"

#include <caf/send.hpp>

#include "encoding.hpp"
#include "fanout.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;

// The identity of a connected client; nullptr before its connect.
const core::client_identity* identity_of(broadcaster_pointer self, const connection_actor& actor) {
  const auto& clients = self->state.directory.clients;
  auto it = clients.find(actor);
  return it == clients.end() || it->second.client_id.empty() ? nullptr : &it->second;
}

}  // namespace

bool is_known(broadcaster_pointer self, const connection_actor& actor) {
  const auto& state = self->state;
  return state.registry.contains(subscriber{actor}) || state.directory.clients.count(actor) != 0;
}

void announce(broadcaster_pointer self, const connection_actor& actor) {
  if (!is_known(self, actor)) {
    self->monitor(actor);
  }
  // Never over an identity: announce comes from the hub's thread, identify
  // through the actor, so their order is not guaranteed.
  self->state.directory.clients.emplace(actor, core::client_identity{});
}

void identify(broadcaster_pointer self, const connection_actor& actor,
              core::client_identity identity) {
  if (!is_known(self, actor)) {
    self->monitor(actor);
  }
  auto& directory = self->state.directory;
  directory.by_user[identity.user].insert(actor);
  directory.clients.insert_or_assign(actor, std::move(identity));
}

core::requester requester_of(broadcaster_pointer self, const connection_actor& actor) {
  const core::client_identity* identity = identity_of(self, actor);
  return core::requester{identity == nullptr ? std::string_view{} : identity->user};
}

void note_join(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const core::subscription_decision& decision, const std::string& chan_info) {
  const core::client_identity* identity = identity_of(self, actor);
  if (!decision.tracks_presence || identity == nullptr) {
    return;
  }
  core::client_info info{identity->user, identity->conn_info, chan_info};
  // The engine pushes the join of a client new to the channel.
  self->state.engine->join(channel, identity->client_id, info, decision.announces_join_leave,
                           [](std::optional<bool>) {});
}

void note_leave(broadcaster_pointer self, const std::string& channel,
                const connection_actor& actor) {
  const core::client_identity* identity = identity_of(self, actor);
  if (identity == nullptr) {
    return;
  }
  self->state.engine->leave(channel, identity->client_id,
                            self->state.policy.pushes_join_leave(channel));
}

void forget_client(broadcaster_pointer self, const connection_actor& actor,
                   const std::vector<std::string>& channels) {
  auto& directory = self->state.directory;
  auto it = directory.clients.find(actor);
  if (it == directory.clients.end()) {
    return;
  }
  const core::client_identity identity = std::move(it->second);
  directory.clients.erase(it);
  if (!identity.client_id.empty()) {
    for (const auto& channel : channels) {
      self->state.engine->leave(channel, identity.client_id,
                                self->state.policy.pushes_join_leave(channel));
    }
  }
  auto user = directory.by_user.find(identity.user);
  if (user != directory.by_user.end()) {
    user->second.erase(actor);
    if (user->second.empty()) {
      directory.by_user.erase(user);
    }
  }
}

void answer_presence(broadcaster_pointer self, const std::string& channel,
                     const core::channel_query& query, std::function<void(presence_answer)> done) {
  auto& engine = *self->state.engine;
  const std::uint32_t id = query.id;
  if (query.what == core::channel_query::kind::presence_stats) {
    engine.presence_stats(
        channel, [id, done = std::move(done)](std::optional<core::presence_stats> stats) {
          presence_answer answer;
          if (!stats) {
            cp::append_error_reply(answer.error, id, cp::errors::internal);
          } else {
            answer.render = {[id, stats = *stats](std::string& out) {
                               cp::append_presence_stats_reply(
                                   out, id, static_cast<std::uint32_t>(stats.num_clients),
                                   static_cast<std::uint32_t>(stats.num_users));
                             },
                             0};
          }
          done(std::move(answer));
        });
    return;
  }
  engine.presence(channel, [id, done = std::move(done)](
                               std::optional<core::presence_registry::shared_client_map> clients) {
    presence_answer answer;
    if (!clients) {
      cp::append_error_reply(answer.error, id, cp::errors::internal);
    } else {
      // Each entry holds at least its client id (36 bytes) and its key.
      const std::uint64_t bytes = (*clients)->size() * 48;
      answer.render = {[id, clients = std::move(*clients)](std::string& out) {
                         cp::append_presence_reply(out, id, presence_views(*clients));
                       },
                       bytes};
    }
    done(std::move(answer));
  });
}

}  // namespace herald::actors::broadcaster_parts
