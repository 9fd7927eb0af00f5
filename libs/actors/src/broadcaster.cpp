#include "herald/actors/broadcaster.hpp"

#include <caf/all.hpp>

namespace herald::actors {

namespace {

void publish_channel_count(broadcaster_pointer self) {
  self->state.published->channels.store(self->state.registry.channel_count(),
                                        std::memory_order_relaxed);
}

}  // namespace

broadcaster_actor::behavior_type broadcaster(broadcaster_pointer self,
                                             std::shared_ptr<broadcast_counters> counters) {
  self->state.published = std::move(counters);
  self->set_down_handler([self](caf::down_msg& msg) {
    // The registry holds strong handles, so the departed actor's handle can
    // still be rebuilt from its address to find its subscriptions.
    if (auto departed = caf::actor_cast<connection_actor>(msg.source)) {
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
        auto& registry = self->state.registry;
        if (!registry.contains(subscriber)) {
          self->monitor(subscriber);
        }
        registry.subscribe(channel, subscriber);
        publish_channel_count(self);
      },
      [self](unsubscribe_atom, const std::string& channel, const connection_actor& subscriber) {
        self->state.registry.unsubscribe(channel, subscriber);
        publish_channel_count(self);
      },
      [self](publish_atom, const std::string& channel, const core::frame_ptr& frame) {
        auto& stats = self->state.stats;
        ++stats.publications;
        for (const auto& subscriber : self->state.registry.subscribers(channel)) {
          self->send(subscriber, deliver_atom::value, frame);
          ++stats.deliveries;
        }
        auto& published = *self->state.published;
        published.publications.store(stats.publications, std::memory_order_relaxed);
        published.deliveries.store(stats.deliveries, std::memory_order_relaxed);
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
