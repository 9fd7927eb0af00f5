#include "herald/actors/broadcaster.hpp"

#include <caf/all.hpp>

namespace herald::actors {

namespace {

void publish_channel_count(broadcaster_pointer self) {
  self->state.published->channels.store(self->state.registry.channel_count(),
                                        std::memory_order_relaxed);
}

void add_to_pending(broadcaster_pointer self, const std::string& channel, core::frame_ptr frame) {
  auto& state = self->state;
  auto [slot, inserted] = state.pending_index.emplace(channel, state.pending.size());
  if (inserted) {
    state.pending.push_back({channel, std::make_shared<core::frame_batch>()});
  }
  state.pending[slot->second].batch->append(std::move(frame));
  if (!state.flush_scheduled) {
    state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

// Forwards every pending batch to its channel's subscribers.
void flush_pending(broadcaster_pointer self) {
  auto& state = self->state;
  auto& stats = state.stats;
  for (auto& entry : state.pending) {
    const core::frame_batch_ptr batch = std::move(entry.batch);
    const auto& subscribers = state.registry.subscribers(entry.channel);
    for (const auto& subscriber : subscribers) {
      self->send(subscriber, deliver_atom::value, batch);
    }
    stats.deliveries += batch->frames.size() * subscribers.size();
  }
  state.pending.clear();
  state.pending_index.clear();
  auto& published = *state.published;
  published.publications.store(stats.publications, std::memory_order_relaxed);
  published.deliveries.store(stats.deliveries, std::memory_order_relaxed);
}

}  // namespace

broadcaster_actor::behavior_type broadcaster(broadcaster_pointer self,
                                             std::shared_ptr<broadcast_counters> counters) {
  self->state.published = std::move(counters);
  self->set_down_handler([self](caf::down_msg& msg) {
    // The registry holds strong handles, so the departed actor's handle can
    // still be rebuilt from its address to find its subscriptions.
    if (auto departed = caf::actor_cast<connection_actor>(msg.source)) {
      flush_pending(self);
      self->state.registry.remove(departed);
      publish_channel_count(self);
    }
  });
  return {
      [self](close_atom) {
        // At shutdown, after the I/O threads have stopped: sessions can no
        // longer close their actors themselves.
        self->state.registry.for_each_subscriber([self](const connection_actor& subscriber) {
          self->send(subscriber, close_atom::value);
        });
        self->quit();
      },
      [self](subscribe_atom, const std::string& channel, const connection_actor& subscriber) {
        flush_pending(self);
        auto& registry = self->state.registry;
        if (!registry.contains(subscriber)) {
          self->monitor(subscriber);
        }
        registry.subscribe(channel, subscriber);
        publish_channel_count(self);
      },
      [self](unsubscribe_atom, const std::string& channel, const connection_actor& subscriber) {
        flush_pending(self);
        self->state.registry.unsubscribe(channel, subscriber);
        publish_channel_count(self);
      },
      [self](publish_atom, const std::string& channel, core::frame_ptr& frame) {
        ++self->state.stats.publications;
        add_to_pending(self, channel, std::move(frame));
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
