// The broadcaster's client-protocol state beyond subscriptions: presence,
// join/leave pushes, presence/history queries, and ending a subscription
// from the server side.

#include <algorithm>

#include <caf/all.hpp>

#include "broadcaster_parts.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;

// Most publications one history command returns (Centrifugo's default
// client_history_max_publication_limit).
constexpr std::int64_t max_history_publications = 300;

bool tracks_presence(const core::channel_options* options) {
  return options != nullptr && (options->presence || options->join_leave);
}

// The identity of a connected client; nullptr before its connect.
const core::client_identity* identity_of(broadcaster_pointer self, const connection_actor& actor) {
  auto it = self->state.clients.find(actor);
  return it == self->state.clients.end() || it->second.client_id.empty() ? nullptr : &it->second;
}

// A join or leave push to every subscriber of `channel` that asked for them.
template <class AppendPush>
void push_to_join_leave_subscribers(broadcaster_pointer self, const std::string& channel,
                                    AppendPush&& append_push) {
  core::frame_batch_ptr batch;
  for (const auto& entry : self->state.registry.subscribers(channel)) {
    if (!entry.join_leave) {
      continue;
    }
    if (!batch) {
      std::string text;
      append_push(text);
      batch = core::make_text_batch(text, channel);
    }
    self->send(entry.actor, deliver_atom::value, batch, round_ticket_ptr{});
  }
}

void push_leave(broadcaster_pointer self, const std::string& channel, const std::string& client_id,
                const core::client_info& info) {
  const core::channel_options* options = self->state.namespaces->options_for(channel);
  if (options == nullptr || !options->join_leave) {
    return;
  }
  const cp::client_info_view view = info_view_of(client_id, info);
  push_to_join_leave_subscribers(
      self, channel, [&](std::string& text) { cp::append_leave_push(text, channel, view); });
}

}  // namespace

cp::client_info_view info_view_of(const std::string& client_id, const core::client_info& info) {
  return cp::client_info_view{info.user, client_id, info.conn_info, info.chan_info};
}

std::vector<cp::client_info_view> presence_views(const core::presence_registry::client_map& map) {
  std::vector<cp::client_info_view> views;
  views.reserve(map.size());
  for (const auto& [client_id, info] : map) {
    views.push_back(info_view_of(client_id, info));
  }
  return views;
}

void note_join(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const std::string& chan_info) {
  const core::channel_options* options = self->state.namespaces->options_for(channel);
  const core::client_identity* identity = identity_of(self, actor);
  if (!tracks_presence(options) || identity == nullptr) {
    return;
  }
  core::client_info info{identity->user, identity->conn_info, chan_info};
  const bool is_new = self->state.presence.join(channel, identity->client_id, info);
  if (!is_new || !options->join_leave) {
    return;
  }
  const cp::client_info_view view = info_view_of(identity->client_id, info);
  push_to_join_leave_subscribers(
      self, channel, [&](std::string& text) { cp::append_join_push(text, channel, view); });
}

void note_leave(broadcaster_pointer self, const std::string& channel,
                const connection_actor& actor) {
  const core::client_identity* identity = identity_of(self, actor);
  if (identity == nullptr) {
    return;
  }
  if (auto info = self->state.presence.leave(channel, identity->client_id)) {
    push_leave(self, channel, identity->client_id, *info);
  }
}

void forget_client(broadcaster_pointer self, const connection_actor& actor) {
  auto& state = self->state;
  auto it = state.clients.find(actor);
  if (it == state.clients.end()) {
    return;
  }
  const core::client_identity identity = std::move(it->second);
  state.clients.erase(it);
  for (auto& departure : state.presence.remove_client(identity.client_id)) {
    push_leave(self, departure.channel, identity.client_id, departure.info);
  }
  auto user = state.clients_by_user.find(identity.user);
  if (user != state.clients_by_user.end()) {
    user->second.erase(actor);
    if (user->second.empty()) {
      state.clients_by_user.erase(user);
    }
  }
}

bool server_unsubscribe(broadcaster_pointer self, const std::string& channel,
                        const connection_actor& actor, bool push) {
  flush_pending(self);
  const subscriber* entry = self->state.registry.find(channel, subscriber{actor});
  if (entry == nullptr) {
    return false;
  }
  const std::uint32_t generation = entry->generation;
  self->state.registry.unsubscribe(channel, subscriber{actor});
  note_leave(self, channel, actor);
  publish_channel_count(self);
  self->send(actor, kick_atom::value, channel, generation, push);
  return true;
}

std::string answer_query(broadcaster_pointer self, const std::string& channel,
                         const core::channel_query& query) {
  std::string reply;
  auto& state = self->state;
  switch (query.what) {
    case core::channel_query::kind::presence:
      cp::append_presence_reply(reply, query.id, presence_views(state.presence.presence(channel)));
      break;
    case core::channel_query::kind::presence_stats: {
      const auto stats = state.presence.stats(channel);
      cp::append_presence_stats_reply(reply, query.id,
                                      static_cast<std::uint32_t>(stats.num_clients),
                                      static_cast<std::uint32_t>(stats.num_users));
      break;
    }
    case core::channel_query::kind::history: {
      std::int64_t limit = query.limit;
      if (limit < 0 || limit > max_history_publications) {
        limit = max_history_publications;
      }
      const auto found = state.history.history(channel, query.since, limit, query.reverse, now());
      if (found.error == core::history_error::bad_request) {
        cp::append_error_reply(reply, query.id, cp::errors::bad_request);
      } else if (found.error == core::history_error::unrecoverable_position) {
        cp::append_error_reply(reply, query.id, cp::errors::unrecoverable_position);
      } else {
        cp::history_result result;
        const publication_views publications = views_of(found.publications);
        result.publications = publications.views;
        result.epoch = found.position.epoch;
        result.offset = found.position.offset;
        cp::append_history_reply(reply, query.id, result);
      }
      break;
    }
  }
  return reply;
}

}  // namespace herald::actors::broadcaster_parts
