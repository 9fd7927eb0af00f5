#include "herald/actors/broadcaster.hpp"

#include "broadcaster_parts.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::actors {

namespace {

namespace cp = core::client_protocol;
using namespace broadcaster_parts;

// Most publications a recovering subscriber gets in its subscribe reply
// (Centrifugo's default client_recovery_max_publication_limit); with more
// missed, recovered is false and the client reloads its state.
constexpr std::size_t max_recovered_publications = 300;

// How often expired history is freed.
constexpr std::chrono::seconds sweep_interval{1};

// /ws: a frame per publication, the publisher's own when it built one.
core::frame_batch_ptr seed_batch(const std::vector<pending_publication>& publications) {
  auto batch = std::make_shared<core::frame_batch>();
  batch->frames.reserve(publications.size());
  for (const auto& [publication, offset] : publications) {
    batch->append(publication->seed_frame
                      ? publication->seed_frame
                      : core::make_frame(core::encode_text_frame(publication->data)));
  }
  return batch;
}

// Client protocol: the round's pushes for the channel in one frame.
core::frame_batch_ptr push_batch(const std::string& channel,
                                 const std::vector<pending_publication>& publications) {
  std::string text;
  for (const auto& [publication, offset] : publications) {
    cp::append_separator(text);
    const cp::client_info_view info = info_view_of(*publication);
    cp::append_publication_push(
        text, channel,
        cp::publication_view{publication->data, offset, publication->publisher ? &info : nullptr});
  }
  return core::make_text_batch(text, channel);
}

// What a subscribe gets, as Centrifugo decides it: recovery where forced or
// asked for, positions with recovery, or where forced or asked for; both
// only with history. The session has already dropped what the client asked
// for but may not have (allow-recovery / allow-positioning, or history
// access).
struct stream_features {
  bool recoverable = false;
  bool positioned = false;
};

stream_features features_of(const core::channel_options& options,
                            const core::join_request& request) {
  stream_features features;
  if (!options.history_enabled()) {
    return features;
  }
  features.recoverable = options.force_recovery || request.recoverable;
  features.positioned = features.recoverable || options.force_positioning || request.positioned;
  return features;
}

// A subscription's result as the reply carries it, with the storage its
// views point into; filled in place (never moved once filled).
struct prepared_subscription {
  cp::subscribe_result result;
  core::recovery_result<core::publication_ptr> recovery;
  publication_views missed;
  bool refused = false;  // flag 2 and the position is gone: error 112
};

// With positions, the stream's top, and for a recovering client the
// publications it missed (or recovered = false); refused when the client
// asked to be refused rather than get recovered = false (flag 2).
void prepare_subscription(broadcaster_pointer self, const std::string& channel,
                          const core::join_request& request, prepared_subscription& out) {
  auto& result = out.result;
  result.expires = request.expires;
  result.ttl = request.ttl;
  const core::channel_options* options = self->state.namespaces->options_for(channel);
  const stream_features features =
      options == nullptr ? stream_features{} : features_of(*options, request);
  if (!features.positioned) {
    return;
  }
  result.recoverable = features.recoverable;
  result.positioned = true;
  result.was_recovering = request.recover;
  if (request.recover && features.recoverable) {
    out.recovery = self->state.history.recover(channel, request.offset, request.epoch, now(),
                                               max_recovered_publications);
    if (!out.recovery.recovered && (request.flag & cp::flag_reject_unrecovered) != 0) {
      out.refused = true;
      return;
    }
    result.recovered = out.recovery.recovered;
  } else {
    out.recovery.position = self->state.history.position(channel, now());
  }
  out.missed = views_of(out.recovery.publications);
  result.publications = out.missed.views;
  result.epoch = out.recovery.position.epoch;
  result.offset = out.recovery.position.offset;
}

// The round's publications go out unless the most rounds are still being
// written; then they join the next, sent when one is done (round_done_atom),
// and flush_scheduled stays set, so publications send no more flushes.
void flush_unless_at_limit(broadcaster_pointer self) {
  auto& state = self->state;
  if (state.rounds_in_flight < state.max_rounds_in_flight) {
    state.flush_scheduled = false;
    flush_pending(self);
  }
}

void add_subscriber(broadcaster_pointer self, const std::string& channel, subscriber entry) {
  flush_pending(self);
  auto& registry = self->state.registry;
  if (!registry.contains(entry) && self->state.clients.count(entry.actor) == 0) {
    self->monitor(entry.actor);
  }
  registry.subscribe(channel, entry);
  publish_channel_count(self);
}

// Registers a prepared subscription and announces the client's join.
void register_subscription(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& actor, const core::join_request& request) {
  const core::channel_options* options = self->state.namespaces->options_for(channel);
  const bool join_leave = options != nullptr && options->join_leave &&
                          (options->force_push_join_leave || request.join_leave);
  add_subscriber(self, channel, subscriber{actor, true, join_leave, request.generation});
  note_join(self, channel, actor, request.chan_info);
}

void join(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
          const core::join_request& request) {
  // Registered after the flush, with the reply computed at the same point:
  // the recovered publications and the pushes that follow meet without a
  // gap or an overlap. The reply travels the deliveries' path, so it
  // reaches the client before those pushes (and before its own join).
  flush_pending(self);
  prepared_subscription prepared;
  prepare_subscription(self, channel, request, prepared);
  std::string reply;
  if (prepared.refused) {
    cp::append_error_reply(reply, request.id, cp::errors::unrecoverable_position);
    deliver_text(self, actor, reply);
    self->send(actor, kick_atom::value, channel, request.generation, false);  // forget it
    return;
  }
  cp::append_subscribe_reply(reply, request.id, prepared.result);
  deliver_text(self, actor, reply);
  register_subscription(self, channel, actor, request);
}

// A connect with server-side subscriptions (the token's `channels`): each is
// prepared and registered as a subscribe would be, and the connect reply,
// built here, carries their results in `subs` (recovered publications
// included), ahead of their pushes.
void connect_with_subscriptions(broadcaster_pointer self, const connection_actor& actor,
                                const core::connect_reply_request& request) {
  flush_pending(self);
  std::vector<prepared_subscription> prepared(request.subs.size());  // never reallocated
  cp::connect_result result;
  result.client = request.client;
  result.version = request.version;
  result.expires = request.expires;
  result.ttl = request.ttl;
  result.ping = request.ping;
  result.pong = request.pong;
  for (std::size_t i = 0; i < request.subs.size(); ++i) {
    const auto& [channel, join] = request.subs[i];
    prepare_subscription(self, channel, join, prepared[i]);
    result.subs.emplace_back(channel, prepared[i].result);
  }
  std::string reply;
  cp::append_connect_reply(reply, request.id, result);
  deliver_text(self, actor, reply);
  for (const auto& [channel, join] : request.subs) {
    register_subscription(self, channel, actor, join);
  }
}

}  // namespace

namespace broadcaster_parts {

core::history_options history_of(broadcaster_pointer self, const std::string& channel) {
  const core::channel_options* options = self->state.namespaces->options_for(channel);
  if (options == nullptr || !options->history_enabled()) {
    return {};
  }
  return {options->history_size, options->history_ttl};
}

void publish_channel_count(broadcaster_pointer self) {
  self->state.published->channels.store(self->state.registry.channel_count(),
                                        std::memory_order_relaxed);
}

core::stream_position publish(broadcaster_pointer self, const std::string& channel,
                              core::publication_ptr publication, bool skip_history) {
  auto& state = self->state;
  ++state.stats.publications;
  core::stream_position position;
  if (const auto options = history_of(self, channel); options.enabled() && !skip_history) {
    position = state.history.append(channel, publication, now(), options);
  }
  auto [slot, inserted] = state.pending_index.emplace(channel, state.pending.size());
  if (inserted) {
    state.pending.push_back({channel, {}});
  }
  state.pending[slot->second].publications.push_back({std::move(publication), position.offset});
  if (!state.flush_scheduled) {
    state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return position;
}

void flush_pending(broadcaster_pointer self) {
  auto& state = self->state;
  auto& stats = state.stats;
  round_ticket_ptr round;
  if (!state.pending.empty()) {
    ++state.rounds_in_flight;
    round = std::make_shared<const round_ticket>(
        [broadcaster = caf::actor_cast<broadcaster_actor>(self)] {
          caf::anon_send(broadcaster, round_done_atom::value);
        });
  }
  for (auto& entry : state.pending) {
    const auto& subscribers = state.registry.subscribers(entry.channel);
    core::frame_batch_ptr for_seed;
    core::frame_batch_ptr for_clients;
    for (const auto& subscriber : subscribers) {
      auto& batch = subscriber.client_protocol ? for_clients : for_seed;
      if (!batch) {
        batch = subscriber.client_protocol ? push_batch(entry.channel, entry.publications)
                                           : seed_batch(entry.publications);
      }
      self->send(subscriber.actor, deliver_atom::value, batch, round);
    }
    stats.deliveries += entry.publications.size() * subscribers.size();
  }
  state.pending.clear();
  state.pending_index.clear();
  auto& published = *state.published;
  published.publications.store(stats.publications, std::memory_order_relaxed);
  published.deliveries.store(stats.deliveries, std::memory_order_relaxed);
}

cp::client_info_view info_view_of(const core::publication& publication) {
  if (!publication.publisher) {
    return {};
  }
  const core::publisher_info& who = *publication.publisher;
  return cp::client_info_view{who.user, who.client, who.conn_info, who.chan_info};
}

publication_views views_of(
    const std::vector<core::history_publication<core::publication_ptr>>& publications) {
  publication_views out;
  out.infos.reserve(publications.size());  // stable: the views point into it
  out.views.reserve(publications.size());
  for (const auto& item : publications) {
    out.infos.push_back(info_view_of(*item.payload));
    out.views.push_back(cp::publication_view{
        item.payload->data, item.offset, item.payload->publisher ? &out.infos.back() : nullptr});
  }
  return out;
}

void deliver_text(broadcaster_pointer self, const connection_actor& actor,
                  const std::string& text) {
  self->send(actor, deliver_atom::value, core::make_text_batch(text), round_ticket_ptr{});
}

}  // namespace broadcaster_parts

broadcaster_actor::behavior_type broadcaster(
    broadcaster_pointer self, std::shared_ptr<broadcast_counters> counters,
    std::shared_ptr<const core::channel_namespaces> namespaces,
    std::chrono::seconds history_meta_ttl, unsigned max_rounds_in_flight) {
  self->state.published = std::move(counters);
  self->state.max_rounds_in_flight = std::max(1u, max_rounds_in_flight);
  self->state.namespaces = std::move(namespaces);
  self->state.history =
      core::channel_history<core::publication_ptr>{core::make_epoch(), history_meta_ttl};
  self->set_down_handler([self](caf::down_msg& msg) {
    // The registry holds strong handles, so the departed actor's handle can
    // still be rebuilt from its address to find its subscriptions.
    if (auto departed = caf::actor_cast<connection_actor>(msg.source)) {
      flush_pending(self);
      self->state.registry.remove(subscriber{departed});
      forget_client(self, departed);
      publish_channel_count(self);
    }
  });
  self->delayed_send(self, sweep_interval, sweep_atom::value);
  return {
      [self](close_atom) {
        // At shutdown, after the I/O threads have stopped: sessions can no
        // longer close their actors themselves.
        self->state.registry.for_each_subscriber(
            [self](const subscriber& entry) { self->send(entry.actor, close_atom::value); });
        for (const auto& [actor, identity] : self->state.clients) {
          self->send(actor, close_atom::value);
        }
        self->quit();
      },
      [self](subscribe_atom, const std::string& channel, const connection_actor& actor) {
        add_subscriber(self, channel, subscriber{actor, false});
      },
      [self](hello_atom, const connection_actor& actor, core::client_identity& identity) {
        // Twice per client: at its spawn without an identity (so that
        // close_atom reaches it even if it never connects), then after
        // its connect with one.
        auto& state = self->state;
        if (!state.registry.contains(subscriber{actor}) && state.clients.count(actor) == 0) {
          self->monitor(actor);
        }
        if (identity.client_id.empty()) {
          // Never over an identity: the two come by different paths (the
          // hub's thread, the actor), so their order is not guaranteed.
          state.clients.emplace(actor, std::move(identity));
          return;
        }
        state.clients_by_user[identity.user].insert(actor);
        state.clients.insert_or_assign(actor, std::move(identity));
      },
      [self](join_atom, const std::string& channel, const connection_actor& actor,
             const core::join_request& request) { join(self, channel, actor, request); },
      [self](connect_atom, const connection_actor& actor,
             const core::connect_reply_request& request) {
        connect_with_subscriptions(self, actor, request);
      },
      [self](unsubscribe_atom, const std::string& channel, const connection_actor& actor) {
        flush_pending(self);
        if (self->state.registry.unsubscribe(channel, subscriber{actor})) {
          note_leave(self, channel, actor);
        }
        publish_channel_count(self);
      },
      [self](query_atom, const std::string& channel, const connection_actor& actor,
             const core::channel_query& query) {
        deliver_text(self, actor, answer_query(self, channel, query));
      },
      [self](publish_atom, const std::string& channel, core::publication_ptr& publication) {
        publish(self, channel, std::move(publication));
      },
      [self](api_atom, api_call& call) {
        std::string body;
        for (const auto& command : call.commands) {
          if (!body.empty()) {
            body += '\n';
          }
          if (const auto* error = std::get_if<core::server_api::api_error>(&command)) {
            core::server_api::append_error(body, *error);
          } else {
            body += answer_api(self, std::get<core::server_api::request>(command));
          }
        }
        if (call.reply) {
          call.reply(std::move(body));
        }
      },
      [self](flush_atom) { flush_unless_at_limit(self); },
      [self](round_done_atom) {
        --self->state.rounds_in_flight;
        flush_unless_at_limit(self);  // what waited for this round, if anything
      },
      [self](sweep_atom) {
        self->state.history.sweep(now());
        self->delayed_send(self, sweep_interval, sweep_atom::value);
      },
      [self](stats_atom) {
        auto stats = self->state.stats;
        stats.channels = self->state.registry.channel_count();
        stats.subscribers = self->state.registry.subscriber_count();
        return stats;
      },
  };
}

}  // namespace herald::actors
