#include "herald/actors/broadcaster.hpp"

#include <caf/all.hpp>

#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::actors {

namespace {

namespace cp = core::client_protocol;

// Most publications a recovering subscriber gets in its subscribe reply
// (Centrifugo's default client_recovery_max_publication_limit); with more
// missed, recovered is false and the client reloads its state.
constexpr std::size_t max_recovered_publications = 300;

std::chrono::steady_clock::time_point now() {
  return std::chrono::steady_clock::now();
}

// The history options of `channel`, off when its namespace keeps none (or
// is unknown: the sessions refuse those with 102 before they get here).
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

void add_to_pending(broadcaster_pointer self, const std::string& channel,
                    core::publication_ptr publication) {
  auto& state = self->state;
  std::uint64_t offset = 0;
  if (const auto options = history_of(self, channel); options.enabled()) {
    offset = state.history.append(channel, publication, now(), options).offset;
  }
  auto [slot, inserted] = state.pending_index.emplace(channel, state.pending.size());
  if (inserted) {
    state.pending.push_back({channel, {}});
  }
  state.pending[slot->second].publications.push_back({std::move(publication), offset});
  if (!state.flush_scheduled) {
    state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

// /ws: a frame per publication, the publisher's own when it built one.
core::frame_batch_ptr seed_batch(const std::vector<pending_publication>& publications) {
  auto batch = std::make_shared<core::frame_batch>();
  batch->frames.reserve(publications.size());
  for (const auto& [publication, offset] : publications) {
    batch->append(publication->seed_frame ? publication->seed_frame
                                          : core::make_frame(core::encode_text_frame(
                                                publication->data)));
  }
  return batch;
}

// Client protocol: the round's pushes for the channel in one frame.
core::frame_batch_ptr push_batch(const std::string& channel,
                                 const std::vector<pending_publication>& publications) {
  std::string text;
  for (const auto& [publication, offset] : publications) {
    cp::append_separator(text);
    cp::append_publication_push(text, channel,
                                cp::publication_view{publication->data, offset, nullptr});
  }
  auto batch = std::make_shared<core::frame_batch>();
  batch->append(core::make_frame(core::encode_text_frame(text)));
  return batch;
}

// Forwards every pending publication to its channel's subscribers.
void flush_pending(broadcaster_pointer self) {
  auto& state = self->state;
  auto& stats = state.stats;
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
      self->send(subscriber.actor, deliver_atom::value, batch);
    }
    stats.deliveries += entry.publications.size() * subscribers.size();
  }
  state.pending.clear();
  state.pending_index.clear();
  auto& published = *state.published;
  published.publications.store(stats.publications, std::memory_order_relaxed);
  published.deliveries.store(stats.deliveries, std::memory_order_relaxed);
}

// The subscribe reply: with history, the stream's position, and for a
// recovering client the publications it missed (or recovered = false).
std::string subscribe_reply(broadcaster_pointer self, const std::string& channel,
                            const core::join_request& request) {
  cp::subscribe_result result;
  std::string reply;
  const auto options = history_of(self, channel);
  if (!options.enabled()) {
    cp::append_subscribe_reply(reply, request.id, result);
    return reply;
  }
  result.recoverable = true;
  result.positioned = true;
  core::recovery_result<core::publication_ptr> recovery;
  if (request.recover) {
    recovery = self->state.history.recover(channel, request.offset, request.epoch, now(),
                                           max_recovered_publications);
    result.was_recovering = true;
    result.recovered = recovery.recovered;
    for (const auto& missed : recovery.publications) {
      result.publications.push_back(cp::publication_view{missed.payload->data, missed.offset});
    }
  } else {
    recovery.position = self->state.history.position(channel, now());
  }
  result.epoch = recovery.position.epoch;
  result.offset = recovery.position.offset;
  cp::append_subscribe_reply(reply, request.id, result);
  return reply;
}

void add_subscriber(broadcaster_pointer self, const std::string& channel, subscriber entry) {
  flush_pending(self);
  auto& registry = self->state.registry;
  if (!registry.contains(entry)) {
    self->monitor(entry.actor);
  }
  registry.subscribe(channel, entry);
  publish_channel_count(self);
}

}  // namespace

broadcaster_actor::behavior_type broadcaster(
    broadcaster_pointer self, std::shared_ptr<broadcast_counters> counters,
    std::shared_ptr<const core::channel_namespaces> namespaces) {
  self->state.published = std::move(counters);
  self->state.namespaces = std::move(namespaces);
  self->set_down_handler([self](caf::down_msg& msg) {
    // The registry holds strong handles, so the departed actor's handle can
    // still be rebuilt from its address to find its subscriptions.
    if (auto departed = caf::actor_cast<connection_actor>(msg.source)) {
      flush_pending(self);
      self->state.registry.remove(subscriber{departed});
      publish_channel_count(self);
    }
  });
  return {
      [self](close_atom) {
        // At shutdown, after the I/O threads have stopped: sessions can no
        // longer close their actors themselves.
        self->state.registry.for_each_subscriber([self](const subscriber& entry) {
          self->send(entry.actor, close_atom::value);
        });
        self->quit();
      },
      [self](subscribe_atom, const std::string& channel, const connection_actor& actor) {
        add_subscriber(self, channel, subscriber{actor, false});
      },
      [self](join_atom, const std::string& channel, const connection_actor& actor,
             const core::join_request& request) {
        // Registered after the flush, with the reply computed at the same
        // point: the recovered publications and the pushes that follow meet
        // without a gap or an overlap. The reply travels the deliveries'
        // path, so it reaches the client before those pushes.
        add_subscriber(self, channel, subscriber{actor, true});
        const std::string reply = subscribe_reply(self, channel, request);
        auto batch = std::make_shared<core::frame_batch>();
        batch->append(core::make_frame(core::encode_text_frame(reply)));
        self->send(actor, deliver_atom::value, core::frame_batch_ptr{std::move(batch)});
      },
      [self](unsubscribe_atom, const std::string& channel, const connection_actor& actor) {
        flush_pending(self);
        self->state.registry.unsubscribe(channel, subscriber{actor});
        publish_channel_count(self);
      },
      [self](publish_atom, const std::string& channel, core::publication_ptr& publication) {
        ++self->state.stats.publications;
        add_to_pending(self, channel, std::move(publication));
      },
      [self](flush_atom) {
        self->state.flush_scheduled = false;
        flush_pending(self);
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
