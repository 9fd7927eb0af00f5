#include "fanout.hpp"

#include <cassert>

#include <caf/send.hpp>

#include "encoding.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"
#include "history.hpp"
#include "presence.hpp"
#include "subscriptions.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;

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

// `publisher`'s publication joins the round's acknowledgements, with the
// client protocol's reply to command `*id` where there is one.
void acknowledge(broadcaster_pointer self, const connection_actor& publisher, std::size_t bytes,
                 const std::uint32_t* id) {
  auto& rounds = self->state.rounds;
  auto [slot, inserted] = rounds.ack_index.emplace(publisher, rounds.acks.size());
  if (inserted) {
    rounds.acks.push_back(pending_ack{publisher, 0, 0, {}});
  }
  pending_ack& ack = rounds.acks[slot->second];
  ++ack.count;
  ack.bytes += bytes;
  if (id != nullptr) {
    cp::append_separator(ack.replies);
    cp::append_publish_reply(ack.replies, *id);
  }
}

void send_acknowledgements(broadcaster_pointer self) {
  auto& rounds = self->state.rounds;
  for (auto& ack : rounds.acks) {
    command_reply reply;
    reply.what = command_reply::answering::publish;
    reply.count = ack.count;
    reply.bytes = ack.bytes;
    if (!ack.replies.empty()) {
      reply.frames = core::make_text_batch(ack.replies);
    }
    send_delivery(self, ack.publisher, std::move(reply));
  }
  rounds.acks.clear();
  rounds.ack_index.clear();
}

round_ticket_ptr start_round(broadcaster_pointer self) {
  ++self->state.rounds.in_flight;
  return std::make_shared<const round_ticket>(
      [broadcaster = caf::actor_cast<broadcaster_actor>(self)] {
        caf::anon_send(broadcaster, round_done_atom::value);
      });
}

}  // namespace

core::stream_position publish(broadcaster_pointer self, const std::string& channel,
                              core::publication_ptr publication, bool skip_history) {
  auto& state = self->state;
  auto& rounds = state.rounds;
  ++state.publications;
  const core::stream_position position =
      skip_history ? core::stream_position{} : append_to_history(self, channel, publication);
  auto [slot, inserted] = rounds.pending_index.emplace(channel, rounds.pending.size());
  if (inserted) {
    rounds.pending.push_back({channel, {}});
  }
  rounds.pending[slot->second].publications.push_back({std::move(publication), position.offset});
  if (!rounds.flush_scheduled) {
    rounds.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
  return position;
}

void seed_publish(broadcaster_pointer self, const std::string& channel,
                  core::publication_ptr publication, const connection_actor& publisher) {
  const std::size_t bytes = publication->data.size();
  publish(self, channel, std::move(publication));
  acknowledge(self, publisher, bytes, nullptr);
}

void client_publish(broadcaster_pointer self, const std::string& channel,
                    core::publication_ptr publication, const connection_actor& publisher,
                    std::uint32_t id) {
  const core::channel_refusal refusal = self->state.policy.publish(
      channel, requester_of(self, publisher), is_subscribed(self, channel, publisher));
  if (const cp::client_error* error = client_error_of(refusal)) {
    command_reply reply;
    reply.what = command_reply::answering::publish;
    reply.bytes = publication->data.size();
    std::string text;
    cp::append_error_reply(text, id, *error);
    reply.frames = core::make_text_batch(text);
    send_delivery(self, publisher, std::move(reply));
    return;
  }
  const std::size_t bytes = publication->data.size();
  publish(self, channel, std::move(publication));
  acknowledge(self, publisher, bytes, &id);
}

void flush_pending(broadcaster_pointer self) {
  auto& state = self->state;
  auto& rounds = state.rounds;
  // Before the pushes: a publisher gets its reply ahead of its own
  // publication.
  send_acknowledgements(self);
  if (rounds.pending.empty()) {
    return;
  }
  const round_ticket_ptr round = start_round(self);
  for (auto& entry : rounds.pending) {
    const auto& subscribers = state.registry.subscribers(entry.channel);
    core::frame_batch_ptr for_seed;
    core::frame_batch_ptr for_clients;
    for (const auto& subscriber : subscribers) {
      auto& batch = subscriber.client_protocol ? for_clients : for_seed;
      if (!batch) {
        batch = subscriber.client_protocol ? push_batch(entry.channel, entry.publications)
                                           : seed_batch(entry.publications);
      }
      self->send(subscriber.actor, deliver_atom::value, delivery{channel_pushes{batch, round}});
    }
    state.deliveries += entry.publications.size() * subscribers.size();
  }
  rounds.pending.clear();
  rounds.pending_index.clear();
  auto& counters = *state.counters;
  counters.publications.store(state.publications, std::memory_order_relaxed);
  counters.deliveries.store(state.deliveries, std::memory_order_relaxed);
}

void on_flush(broadcaster_pointer self) {
  auto& rounds = self->state.rounds;
  // While the most rounds are being written, flush_scheduled stays set, so
  // publications send no more flushes: on_round_done sends this round.
  if (rounds.in_flight < rounds.max_in_flight) {
    rounds.flush_scheduled = false;
    flush_pending(self);
  }
}

void on_round_done(broadcaster_pointer self) {
  auto& rounds = self->state.rounds;
  // Every round's ticket sends exactly one round_done_atom.
  assert(rounds.in_flight > 0 && "a round was done that was never started");
  --rounds.in_flight;
  if (rounds.flush_scheduled) {
    on_flush(self);  // what waited for this round
  }
}

void send_delivery(broadcaster_pointer self, const connection_actor& actor, delivery item) {
  self->send(actor, deliver_atom::value, std::move(item));
}

void send_reply(broadcaster_pointer self, const connection_actor& actor,
                command_reply::answering what, const std::string& text,
                std::vector<subscription_outcome> subscriptions) {
  command_reply reply{what, text.empty() ? nullptr : core::make_text_batch(text),
                      std::move(subscriptions)};
  send_delivery(self, actor, std::move(reply));
}

void publish_figures(broadcaster_pointer self) {
  auto& state = self->state;
  state.counters->channels.store(state.registry.channel_count(), std::memory_order_relaxed);
  state.counters->subscriptions.store(state.registry.subscription_count(),
                                      std::memory_order_relaxed);
}

}  // namespace herald::actors::broadcaster_parts
