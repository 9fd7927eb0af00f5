#include "fanout.hpp"

#include <cassert>
#include <optional>

#include <caf/send.hpp>

#include "caf_handoff.hpp"
#include "encoding.hpp"
#include "herald/core/client_protocol.hpp"
#include "herald/core/websocket_frame.hpp"
#include "history.hpp"
#include "presence.hpp"
#include "subscriptions.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;

// /ws: a frame per publication from event `from` on, the publisher's own
// when it built one; null when there is none.
core::frame_batch_ptr seed_batch(const pending_channel& entry, std::size_t from = 0) {
  auto batch = std::make_shared<core::frame_batch>();
  batch->frames.reserve(from == 0 ? entry.publications : 0);
  for (std::size_t i = from; i < entry.events.size(); ++i) {
    const auto& event = entry.events[i];
    if (const auto* item = std::get_if<pending_publication>(&event)) {
      const auto& publication = *item->publication;
      batch->append(publication.seed_frame
                        ? publication.seed_frame
                        : core::make_frame(core::encode_text_frame(publication.data)));
    }
  }
  return batch->frames.empty() ? nullptr : batch;
}

// Client protocol: the round's pushes for the channel in one frame, from
// event `from` on, with its joins and leaves for a subscriber that takes
// them; null when there is none.
core::frame_batch_ptr push_batch(const pending_channel& entry, bool with_presence,
                                 std::size_t from = 0) {
  std::string text;
  for (std::size_t i = from; i < entry.events.size(); ++i) {
    const auto& event = entry.events[i];
    if (const auto* item = std::get_if<pending_publication>(&event)) {
      const auto& publication = *item->publication;
      const cp::client_info_view info = info_view_of(publication);
      cp::append_separator(text);
      cp::append_publication_push(text, entry.channel,
                                  cp::publication_view{publication.data, item->offset,
                                                       publication.publisher ? &info : nullptr});
      continue;
    }
    const auto& change = std::get<presence_change>(event);
    if (!with_presence || change.cancelled) {
      continue;
    }
    const cp::client_info_view info = info_view_of(change.client_id, change.info);
    cp::append_separator(text);
    if (change.join) {
      cp::append_join_push(text, entry.channel, info);
    } else {
      cp::append_leave_push(text, entry.channel, info);
    }
  }
  return text.empty() ? nullptr : core::make_text_batch(text, entry.channel);
}

// The flush that closes the round, scheduled by its first news.
void schedule_flush(broadcaster_pointer self) {
  auto& rounds = self->state.rounds;
  if (!rounds.flush_scheduled) {
    rounds.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

// The channel's slot in the round being gathered.
pending_channel& pending_for(broadcaster_pointer self, const std::string& channel) {
  auto& rounds = self->state.rounds;
  auto [slot, inserted] = rounds.pending_index.emplace(channel, rounds.pending.size());
  if (inserted) {
    rounds.pending.push_back(pending_channel{channel, {}, 0, 0, {}, {}});
  }
  schedule_flush(self);
  return rounds.pending[slot->second];
}

// Whether this node has anyone for `channel`'s news: subscribers, or
// subscriptions being set up.
bool has_interest(broadcaster_pointer self, const std::string& channel) {
  return !self->state.registry.subscribers(channel).empty() ||
         self->state.joining.count(channel) != 0;
}

// `publisher`'s publication joins the round's acknowledgements, with the
// client protocol's reply to command `*id` where there is one (its error
// when `error` is set).
void acknowledge(broadcaster_pointer self, const connection_actor& publisher, std::size_t bytes,
                 const std::uint32_t* id, const cp::client_error* error = nullptr) {
  schedule_flush(self);
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
    if (error != nullptr) {
      cp::append_error_reply(ack.replies, *id, *error);
    } else {
      cp::append_publish_reply(ack.replies, *id);
    }
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
}

// What a subscriber that joined during the round gets of it: the events
// from its join on, in a batch of its own.
void send_suffix(broadcaster_pointer self, const pending_channel& entry,
                 const subscriber& subscriber, std::size_t from, const round_ticket_ptr& round) {
  const core::frame_batch_ptr batch = subscriber.client_protocol
                                          ? push_batch(entry, subscriber.join_leave_pushes, from)
                                          : seed_batch(entry, from);
  if (!batch) {
    return;
  }
  std::size_t publications = 0;
  for (std::size_t i = from; i < entry.events.size(); ++i) {
    publications += std::holds_alternative<pending_publication>(entry.events[i]) ? 1 : 0;
  }
  self->state.deliveries += publications;
  send_delivery(self, subscriber.actor, delivery{channel_pushes{batch, round}});
}

// A channel's pushes for `actor` in the round: gathered into its route's
// group for these frames (handed over by hand_gathered); a session the
// broadcaster was not given, one gone, or one without a route takes
// send_delivery's way. A new group has room for the `subscribers` still to
// be given, this one included.
void gather_pushes(broadcaster_pointer self, const connection_actor& actor,
                   const core::frame_batch_ptr& frames, const round_ticket_ptr& round,
                   std::size_t subscribers) {
  auto& sessions = self->state.sessions;
  auto known = sessions.find(actor);
  std::shared_ptr<session_sink> session;
  delivery_route* route = nullptr;
  if (known != sessions.end()) {
    session = known->second.lock();
    route = session ? session->route() : nullptr;
  }
  if (route == nullptr) {
    // Every session a server makes has a route: these are the rare ways
    // (and the tests' sinks), which may look the session up again.
    send_delivery(self, actor, channel_pushes{frames, round});
    return;
  }
  // A channel's subscribers mostly share the last group (one I/O thread's
  // sessions alternate with another's, or get other frames, only when
  // workers or kinds of subscriber are mixed): a few groups, searched from
  // the last.
  auto& groups = self->state.rounds.groups;
  for (auto group = groups.rbegin(); group != groups.rend(); ++group) {
    if (group->route == route && group->frames == frames) {
      group->sessions.push_back(std::move(session));
      return;
    }
  }
  groups.push_back(pushes_group{route, frames, {}});
  groups.back().sessions.reserve(subscribers);
  groups.back().sessions.push_back(std::move(session));
}

// Hands each group gather_pushes made over to its route, in the order they
// were made.
void hand_gathered(broadcaster_pointer self, const round_ticket_ptr& round) {
  auto& groups = self->state.rounds.groups;
  if (!groups.empty()) {
    acquire_from_caf();
  }
  for (auto& group : groups) {
    group.route->hand_pushes(channel_pushes{std::move(group.frames), round},
                             std::move(group.sessions));
  }
  groups.clear();
}

round_ticket_ptr start_round(broadcaster_pointer self) {
  ++self->state.rounds.in_flight;
  ++self->state.rounds.sent;
  return std::make_shared<const round_ticket>(
      [broadcaster = caf::actor_cast<broadcaster_actor>(self)] {
        caf::anon_send(broadcaster, round_done_atom::value);
      });
}

}  // namespace

void publish(broadcaster_pointer self, const std::string& channel,
             core::publication_ptr publication, bool skip_history,
             std::function<void(std::optional<core::stream_position>)> done) {
  const core::history_options history =
      skip_history ? core::history_options{} : self->state.policy.history(channel);
  self->state.engine->publish(channel, std::move(publication), history, std::move(done));
}

void receive_publication(broadcaster_pointer self, const std::string& channel,
                         core::publication_ptr publication, std::uint64_t offset) {
  auto& state = self->state;
  ++state.publications;  // whatever node published it
  if (!state.joining.empty()) {
    auto joining = state.joining.find(channel);
    if (joining != state.joining.end()) {
      for (auto& attempt : joining->second) {
        attempt->received.push_back(pending_publication{publication, offset});
      }
    }
  }
  if (state.registry.subscribers(channel).empty()) {
    return;
  }
  pending_channel& entry = pending_for(self, channel);
  entry.events.emplace_back(pending_publication{std::move(publication), offset});
  ++entry.publications;
}

void send_received(broadcaster_pointer self, const std::string& channel,
                   const subscriber& subscriber, const std::vector<pending_publication>& received,
                   std::uint64_t after_offset) {
  pending_channel entry{channel, {}, 0, 0, {}, {}};
  for (const auto& item : received) {
    if (item.offset == 0 || item.offset > after_offset) {
      entry.events.emplace_back(item);
      ++entry.publications;
    }
  }
  if (entry.publications == 0) {
    return;
  }
  const core::frame_batch_ptr batch =
      subscriber.client_protocol ? push_batch(entry, false) : seed_batch(entry);
  self->state.deliveries += entry.publications;
  send_delivery(self, subscriber.actor, delivery{channel_pushes{batch, nullptr}});
}

void announce_presence(broadcaster_pointer self, const std::string& channel, bool join,
                       const std::string& client_id, const core::client_info& info) {
  if (!has_interest(self, channel)) {
    return;
  }
  pending_channel& entry = pending_for(self, channel);
  if (!join) {
    auto joined = entry.joins.find(client_id);
    if (joined != entry.joins.end()) {
      std::get<presence_change>(entry.events[joined->second]).cancelled = true;
      --entry.presence_changes;
      entry.joins.erase(joined);
      return;  // joined and left within the round: nobody needs to hear of it
    }
  } else {
    entry.joins[client_id] = entry.events.size();
  }
  entry.events.emplace_back(presence_change{join, client_id, info, false});
  ++entry.presence_changes;
}

void seed_publish(broadcaster_pointer self, const std::string& channel,
                  core::publication_ptr publication, const connection_actor& publisher) {
  const std::size_t bytes = publication->data.size();
  // Acknowledged either way: the acknowledgement frees the publisher's
  // share of the publish backlog. A /ws client has no error to be told;
  // what the engine refused is counted in its metrics.
  publish(self, channel, std::move(publication), false,
          [self, publisher, bytes](const std::optional<core::stream_position>&) {
            acknowledge(self, publisher, bytes, nullptr);
          });
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
  publish(self, channel, std::move(publication), false,
          [self, publisher, bytes, id](const std::optional<core::stream_position>& position) {
            acknowledge(self, publisher, bytes, &id, position ? nullptr : &cp::errors::internal);
          });
}

void flush_pending(broadcaster_pointer self) {
  auto& state = self->state;
  auto& rounds = state.rounds;
  // Who published in this round (ack_index, kept until the pushes are
  // out): they get the round after every other subscriber of the channel. A
  // client that has its own publication back sends its next at once; last
  // in the round, its next messages reach a thread that is done writing
  // and are read together, so they join one round instead of being split
  // over two by a write pass still going (at 16 messages in flight, one
  // publisher and 1000 subscribers: 15.7 publications per round instead of
  // 9.2). The other subscribers, whom the publication is for, get it
  // sooner.
  const auto& publishers = rounds.ack_index;
  // Before the pushes: a publisher gets its reply ahead of its own
  // publication.
  send_acknowledgements(self);
  auto& counters = *state.counters;
  if (rounds.pending.empty()) {
    rounds.ack_index.clear();
    counters.publications.store(state.publications, std::memory_order_relaxed);
    return;
  }
  const round_ticket_ptr round = start_round(self);
  std::vector<const subscriber*>& publishers_last = rounds.publishers_last;
  for (auto& entry : rounds.pending) {
    const auto& subscribers = state.registry.subscribers(entry.channel);
    // Built on first need, once per channel and kind of subscriber: /ws
    // frames, client-protocol pushes, and the same with joins and leaves.
    std::optional<core::frame_batch_ptr> for_seed;
    std::optional<core::frame_batch_ptr> for_clients;
    std::optional<core::frame_batch_ptr> with_presence;
    const bool has_presence = entry.presence_changes > 0;
    std::size_t from_the_start = 0;  // subscribers that get the whole round
    // A new group's room: the subscribers still to give (with one I/O
    // thread, exactly what its one group needs).
    std::size_t room = subscribers.size();
    const auto give = [&](const subscriber& subscriber) {
      const std::size_t still_to_give = room--;  // this one included
      if (!entry.joined_at.empty()) {
        auto joined = entry.joined_at.find(subscriber.actor);
        if (joined != entry.joined_at.end()) {
          send_suffix(self, entry, subscriber, joined->second, round);
          return;
        }
      }
      ++from_the_start;
      core::frame_batch_ptr* batch = nullptr;
      if (!subscriber.client_protocol) {
        if (!for_seed) {
          for_seed = entry.publications > 0 ? seed_batch(entry) : nullptr;
        }
        batch = &*for_seed;
      } else if (subscriber.join_leave_pushes && has_presence) {
        if (!with_presence) {
          with_presence = push_batch(entry, true);
        }
        batch = &*with_presence;
      } else {
        if (!for_clients) {
          for_clients = entry.publications > 0 ? push_batch(entry, false) : nullptr;
        }
        batch = &*for_clients;
      }
      if (*batch) {
        gather_pushes(self, subscriber.actor, *batch, round, still_to_give);
      }
    };
    for (const auto& subscriber : subscribers) {
      if (!publishers.empty() && publishers.count(subscriber.actor) != 0) {
        publishers_last.push_back(&subscriber);
        continue;
      }
      give(subscriber);
    }
    hand_gathered(self, round);  // the publishers' pushes go after all of these
    room = publishers_last.size();
    for (const subscriber* publisher : publishers_last) {
      give(*publisher);
    }
    hand_gathered(self, round);
    publishers_last.clear();
    state.deliveries += entry.publications * from_the_start;
  }
  rounds.pending.clear();
  rounds.pending_index.clear();
  rounds.ack_index.clear();
  counters.publications.store(state.publications, std::memory_order_relaxed);
  counters.deliveries.store(state.deliveries, std::memory_order_relaxed);
  counters.rounds.store(rounds.sent, std::memory_order_relaxed);
}

void note_joined_mid_round(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& subscriber) {
  auto& rounds = self->state.rounds;
  auto slot = rounds.pending_index.find(channel);
  if (slot != rounds.pending_index.end()) {
    auto& entry = rounds.pending[slot->second];
    entry.joined_at[subscriber] = entry.events.size();
  }
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
  auto& sessions = self->state.sessions;
  auto known = sessions.find(actor);
  if (known == sessions.end()) {
    release_to_caf();
    self->send(actor, deliver_atom::value, std::move(item));
    return;
  }
  if (auto session = known->second.lock()) {
    acquire_from_caf();
    session_sink::hand(std::move(session), std::move(item));
  }
}

void attach_session(broadcaster_pointer self, const connection_actor& actor,
                    std::weak_ptr<session_sink> session) {
  self->state.sessions.insert_or_assign(actor, std::move(session));
}

void detach_session(broadcaster_pointer self, const connection_actor& actor) {
  self->state.sessions.erase(actor);
}

void send_reply(broadcaster_pointer self, const connection_actor& actor,
                command_reply::answering what, const std::string& text,
                std::vector<subscription_outcome> subscriptions) {
  command_reply reply;
  reply.what = what;
  if (!text.empty()) {
    reply.frames = core::make_text_batch(text);
  }
  reply.subscriptions = std::move(subscriptions);
  send_delivery(self, actor, std::move(reply));
}

void publish_figures(broadcaster_pointer self) {
  auto& state = self->state;
  state.counters->channels.store(state.registry.channel_count(), std::memory_order_relaxed);
  state.counters->subscriptions.store(state.registry.subscription_count(),
                                      std::memory_order_relaxed);
}

}  // namespace herald::actors::broadcaster_parts
