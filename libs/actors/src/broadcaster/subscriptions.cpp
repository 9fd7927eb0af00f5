#include "subscriptions.hpp"

#include <algorithm>
#include <cassert>

#include "encoding.hpp"
#include "fanout.hpp"
#include "history.hpp"
#include "presence.hpp"

namespace herald::actors::broadcaster_parts {
namespace {

namespace cp = core::client_protocol;
using answering = command_reply::answering;

void add_subscriber(broadcaster_pointer self, const std::string& channel, subscriber entry) {
  if (!is_known(self, entry.actor)) {
    self->monitor(entry.actor);
  }
  const bool added = self->state.registry.subscribe(channel, entry);
  // A /ws session subscribes once, at its spawn; a client's subscription is
  // registered only after is_subscribed() said it was not.
  assert(added && "a connection was registered twice in one channel");
  static_cast<void>(added);
  // No flush: the round in progress gives it only what comes after now, so
  // a subscriber gets exactly what arrives after it joined, and the
  // recovered publications and the pushes that follow meet without a gap
  // or an overlap (what is pending is in the history already, and in what
  // its join_attempt received).
  note_joined_mid_round(self, channel, entry.actor);
  publish_figures(self);
}

// Registers an allowed subscription, gives it what its channel received
// while it was set up (after the position in its reply), and announces the
// client's join.
void register_subscription(broadcaster_pointer self, const join_attempt& attempt,
                           std::uint64_t position) {
  if (attempt.left) {
    // Its reply went out (the request is settled), but the client no longer
    // wants the channel: nothing to register, nobody to tell of a join.
    release_channel(self, attempt.channel);
    return;
  }
  const subscriber entry{attempt.actor,
                         true,
                         attempt.decision.join_leave_pushes,
                         attempt.generation,
                         attempt.decision.positioned,
                         attempt.server_side};
  send_received(self, attempt.channel, entry, attempt.received, position);
  add_subscriber(self, attempt.channel, entry);
  note_join(self, attempt.channel, attempt.actor, attempt.decision, attempt.chan_info);
}

// Whether a subscription of `actor` to `channel` is being set up (and not
// left already).
bool is_joining(broadcaster_pointer self, const std::string& channel,
                const connection_actor& actor) {
  auto joining = self->state.joining.find(channel);
  if (joining == self->state.joining.end()) {
    return false;
  }
  const auto& attempts = joining->second;
  return std::any_of(attempts.begin(), attempts.end(), [&](const join_attempt_ptr& attempt) {
    return attempt->actor == actor && !attempt->left;
  });
}

void forget_attempt(broadcaster_pointer self, const join_attempt_ptr& attempt) {
  auto& joining = self->state.joining;
  auto slot = joining.find(attempt->channel);
  if (slot == joining.end()) {
    return;
  }
  auto& attempts = slot->second;
  attempts.erase(std::remove(attempts.begin(), attempts.end(), attempt), attempts.end());
  if (attempts.empty()) {
    joining.erase(slot);
  }
}

// Sets up `attempt`'s subscription: the engine watches its channel, then
// tells its position (and what a recovering client missed); for a
// positioned one, the engine then syncs, so that whatever was published
// before that read has arrived (and been kept, or left out as older than
// the position) before the subscriber joins. `done` gets the prepared
// subscription, or nullopt when the engine could not; it is always called,
// also for an attempt whose connection went away (`cancelled`). With
// `forget_when_ready` the attempt leaves `joining` then; a connect's
// attempts stay there until the last of them is ready (finish_connect), so
// that none misses what arrives while the others are set up.
void set_up(broadcaster_pointer self, const join_attempt_ptr& attempt, bool forget_when_ready,
            std::function<void(std::optional<prepared_subscription>)> done) {
  self->state.joining[attempt->channel].push_back(attempt);
  auto finish = [self, attempt, forget_when_ready,
                 done = std::move(done)](std::optional<prepared_subscription> prepared) {
    if (forget_when_ready) {
      forget_attempt(self, attempt);
    }
    done(std::move(prepared));
  };
  self->state.engine->watch(
      attempt->channel, [self, attempt, finish = std::move(finish)](bool watching) mutable {
        if (!watching || attempt->cancelled) {
          finish(std::nullopt);
          return;
        }
        prepare_subscription(
            self, attempt->channel, attempt->decision, attempt->from, attempt->refuse_unrecovered,
            [self, attempt, finish](std::optional<prepared_subscription> prepared) {
              if (!prepared || !prepared->positioned || attempt->cancelled) {
                finish(std::move(prepared));
                return;
              }
              self->state.engine->sync(attempt->channel, [finish, prepared](bool synced) {
                finish(synced ? prepared : std::nullopt);
              });
            });
      });
}

}  // namespace

void leave_attempts(broadcaster_pointer self, const std::string& channel,
                    const connection_actor& actor) {
  for (auto& [name, attempts] : self->state.joining) {
    if (!channel.empty() && name != channel) {
      continue;
    }
    for (auto& attempt : attempts) {
      if (attempt->actor == actor) {
        attempt->left = true;
      }
    }
  }
}

bool is_subscribed(broadcaster_pointer self, const std::string& channel,
                   const connection_actor& actor) {
  return self->state.registry.find(channel, subscriber{actor}) != nullptr;
}

void release_channel(broadcaster_pointer self, const std::string& channel) {
  if (self->state.registry.subscribers(channel).empty() &&
      self->state.joining.count(channel) == 0) {
    self->state.engine->unwatch(channel);
  }
}

void add_seed_subscriber(broadcaster_pointer self, const std::string& channel,
                         const connection_actor& actor) {
  // Registered at once: /ws sessions have no reply to wait for. With a
  // shared engine the first one watches the channel, and what is published
  // before Redis confirmed that is not theirs.
  if (self->state.registry.subscribers(channel).empty()) {
    self->state.engine->watch(channel, [](bool) {});
  }
  add_subscriber(self, channel, subscriber{actor, false});
}

void subscribe(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const core::subscription_request& request) {
  // The reply travels the deliveries' path, so it reaches the client before
  // the channel's pushes (and before its own join).
  const auto settle = [self, actor, channel, generation = request.generation](
                          bool accepted, const std::string& reply) {
    send_reply(self, actor, answering::subscribe, reply,
               {subscription_outcome{channel, generation, accepted}});
  };
  const auto refuse = [settle, id = request.id](const cp::client_error& error) {
    std::string reply;
    cp::append_error_reply(reply, id, error);
    settle(false, reply);
  };
  const core::subscription_decision decision =
      self->state.policy.subscribe(channel, requester_of(self, actor), request.ask);
  if (decision.refusal == core::channel_refusal::invalid_token) {
    settle(false, {});
    const auto& advice = cp::disconnects::invalid_token;
    send_delivery(self, actor, server_disconnect{advice.code, std::string{advice.reason}});
    return;
  }
  if (!decision.allowed()) {
    refuse(*client_error_of(decision.refusal));
    return;
  }
  if (is_subscribed(self, channel, actor) || is_joining(self, channel, actor)) {
    // The session answers 105 itself for what it holds or asked for; this
    // is the broadcaster's own guard against a second registration.
    refuse(cp::errors::already_subscribed);
    return;
  }
  auto attempt = std::make_shared<join_attempt>();
  attempt->channel = channel;
  attempt->actor = actor;
  attempt->decision = decision;
  attempt->from = request.from;
  attempt->refuse_unrecovered = (request.flag & cp::flag_reject_unrecovered) != 0;
  attempt->generation = request.generation;
  attempt->chan_info = request.chan_info;
  set_up(self, attempt, true,
         [self, attempt, refuse, request](std::optional<prepared_subscription> prepared) {
           if (attempt->cancelled) {
             release_channel(self, attempt->channel);  // nobody left to answer
             return;
           }
           if (attempt->interrupted) {
             prepared.reset();  // what it would have got has a gap: it tries again
           }
           if (!prepared || prepared->refused) {
             refuse(prepared ? cp::errors::unrecoverable_position : cp::errors::internal);
             release_channel(self, attempt->channel);
             return;
           }
           prepared->expires = request.expires;
           prepared->ttl = request.ttl;
           const std::uint64_t position = prepared->recovery.position.offset;
           command_reply reply;
           reply.what = answering::subscribe;
           reply.subscriptions.push_back(
               subscription_outcome{attempt->channel, request.generation, true});
           reply.render = render_subscribe_reply(request.id, std::move(*prepared));
           send_delivery(self, attempt->actor, std::move(reply));
           register_subscription(self, *attempt, position);
         });
}

namespace {

// A connect's server-side subscriptions, set up together: the connect
// reply carries all of their results, so it goes when the last is ready.
struct connect_progress {
  connection_actor actor;
  std::uint32_t id = 0;
  cp::connect_result result;
  std::vector<subscription_outcome> outcomes;
  // Per accepted subscription, in request order: its attempt and, once
  // set up, how.
  std::vector<join_attempt_ptr> attempts;
  std::vector<std::optional<prepared_subscription>> prepared;
  std::size_t remaining = 0;
};

void finish_connect(broadcaster_pointer self, connect_progress& progress) {
  for (const auto& attempt : progress.attempts) {
    forget_attempt(self, attempt);
  }
  const bool gone = std::any_of(progress.attempts.begin(), progress.attempts.end(),
                                [](const join_attempt_ptr& attempt) { return attempt->cancelled; });
  if (gone) {
    for (const auto& attempt : progress.attempts) {
      release_channel(self, attempt->channel);
    }
    return;  // the connection went away: nobody to answer
  }
  command_reply reply;
  reply.what = answering::connect;
  std::vector<std::pair<std::string, prepared_subscription>> ready;
  std::vector<std::uint64_t> positions;
  bool failed = false;
  std::size_t next = 0;
  for (auto& outcome : progress.outcomes) {
    if (!outcome.accepted) {
      continue;
    }
    const std::size_t i = next++;
    auto& prepared = progress.prepared[i];
    const auto& attempt = progress.attempts[i];
    if (!prepared || attempt->interrupted) {
      prepared.reset();
      outcome.accepted = false;
      failed = true;
      release_channel(self, attempt->channel);
      continue;
    }
    reply.render.bytes += data_bytes(prepared->recovery.publications);
    positions.push_back(prepared->recovery.position.offset);
    ready.emplace_back(attempt->channel, *prepared);
  }
  reply.subscriptions = progress.outcomes;
  // Made on the session's thread: the subs may carry recovered publications.
  reply.render.append = [id = progress.id, result = std::move(progress.result),
                         ready = std::move(ready)](std::string& out) mutable {
    std::vector<publication_views> missed;
    missed.reserve(ready.size());  // never reallocated: the results point into it
    for (const auto& [channel, subscription] : ready) {
      missed.push_back(views_of(subscription.recovery.publications));
      result.subs.emplace_back(channel, result_of(subscription, missed.back()));
    }
    cp::append_connect_reply(out, id, result);
  };
  send_delivery(self, progress.actor, std::move(reply));
  std::size_t position = 0;
  for (std::size_t i = 0; i < progress.attempts.size(); ++i) {
    if (progress.prepared[i]) {
      register_subscription(self, *progress.attempts[i], positions[position++]);
    }
  }
  if (failed) {
    // A server-side subscription the engine could not set up cannot be
    // asked for again alone: the client reconnects (and recovers).
    const auto& advice = cp::disconnects::server_error;
    send_delivery(self, progress.actor, server_disconnect{advice.code, std::string{advice.reason}});
  }
}

}  // namespace

void connect(broadcaster_pointer self, const connection_actor& actor,
             core::connect_request& request) {
  identify(self, actor, std::move(request.identity));
  auto progress = std::make_shared<connect_progress>();
  progress->actor = actor;
  progress->id = request.id;
  progress->result = std::move(request.result);
  for (const auto& [channel, generation, from] : request.subscriptions) {
    const core::subscription_decision decision = self->state.policy.server_side_subscribe(channel);
    const bool accepted = decision.allowed() && !is_subscribed(self, channel, actor) &&
                          !is_joining(self, channel, actor);
    progress->outcomes.push_back(subscription_outcome{channel, generation, accepted});
    if (accepted) {
      auto attempt = std::make_shared<join_attempt>();
      attempt->channel = channel;
      attempt->actor = actor;
      attempt->decision = decision;
      attempt->from = from;
      attempt->generation = generation;
      attempt->server_side = true;
      progress->attempts.push_back(std::move(attempt));
    }
  }
  progress->prepared.resize(progress->attempts.size());
  progress->remaining = progress->attempts.size();
  if (progress->remaining == 0) {
    finish_connect(self, *progress);
    return;
  }
  for (std::size_t i = 0; i < progress->attempts.size(); ++i) {
    set_up(self, progress->attempts[i], false,
           [self, progress, i](std::optional<prepared_subscription> prepared) {
             progress->prepared[i] = std::move(prepared);
             if (--progress->remaining == 0) {
               finish_connect(self, *progress);
             }
           });
  }
}

// Leaving needs no flush (joining does): what is pending for the channel
// goes to those still in it when the round goes out, and the session drops
// what was on its way to a channel it left. So a join and a leave in one
// round meet in the round, and cancel out.
void unsubscribe(broadcaster_pointer self, const std::string& channel,
                 const connection_actor& actor) {
  leave_attempts(self, channel, actor);
  if (self->state.registry.unsubscribe(channel, subscriber{actor})) {
    note_leave(self, channel, actor);
    publish_figures(self);
    release_channel(self, channel);
  }
  // The client had its reply from its session; this frees the session's
  // slot for it.
  send_reply(self, actor, command_reply::answering::unsubscribe, {});
}

bool unsubscribe_by_server(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& actor, bool insufficient_state) {
  const subscriber* entry = self->state.registry.find(channel, subscriber{actor});
  if (entry == nullptr) {
    return false;
  }
  const std::uint32_t generation = entry->generation;
  self->state.registry.unsubscribe(channel, subscriber{actor});
  note_leave(self, channel, actor);
  publish_figures(self);
  send_delivery(self, actor, server_unsubscribe{channel, generation, insufficient_state});
  release_channel(self, channel);
  return true;
}

void interrupt_channels(broadcaster_pointer self, const std::vector<std::string>& channels) {
  for (const auto& channel : channels) {
    // Positioned subscriptions being set up would join after a gap: they
    // fail instead, and are asked for again.
    auto joining = self->state.joining.find(channel);
    if (joining != self->state.joining.end()) {
      for (auto& attempt : joining->second) {
        attempt->interrupted = attempt->interrupted || attempt->decision.positioned;
      }
    }
    // A copy: unsubscribing changes the list.
    const auto subscribers = self->state.registry.subscribers(channel);
    for (const auto& entry : subscribers) {
      if (!entry.positioned) {
        continue;  // without positions nothing was promised
      }
      if (entry.server_side) {
        // A server-side subscription cannot be resubscribed alone: the
        // client reconnects, and recovers.
        const auto& advice = cp::disconnects::insufficient_state;
        send_delivery(self, entry.actor,
                      server_disconnect{advice.code, std::string{advice.reason}});
      } else {
        unsubscribe_by_server(self, channel, entry.actor, true);
      }
    }
  }
}

void remove_connection(broadcaster_pointer self, const connection_actor& actor) {
  auto& state = self->state;
  const std::vector<std::string> channels = state.registry.channels_of(subscriber{actor});
  for (auto& [channel, attempts] : state.joining) {
    for (auto& attempt : attempts) {
      if (attempt->actor == actor) {
        attempt->cancelled = true;
      }
    }
  }
  state.registry.remove(subscriber{actor});
  detach_session(self, actor);
  forget_client(self, actor, channels);
  for (const auto& channel : channels) {
    release_channel(self, channel);
  }
  publish_figures(self);
}

}  // namespace herald::actors::broadcaster_parts
