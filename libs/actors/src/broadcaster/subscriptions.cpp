#include "subscriptions.hpp"

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
  // or an overlap (what is pending is in the history already).
  note_joined_mid_round(self, channel, entry.actor);
  publish_figures(self);
}

// Registers an allowed subscription and announces the client's join.
void register_subscription(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& actor,
                           const core::subscription_decision& decision, std::uint32_t generation,
                           const std::string& chan_info) {
  add_subscriber(self, channel, subscriber{actor, true, decision.join_leave_pushes, generation});
  note_join(self, channel, actor, decision, chan_info);
}

}  // namespace

bool is_subscribed(broadcaster_pointer self, const std::string& channel,
                   const connection_actor& actor) {
  return self->state.registry.find(channel, subscriber{actor}) != nullptr;
}

void add_seed_subscriber(broadcaster_pointer self, const std::string& channel,
                         const connection_actor& actor) {
  add_subscriber(self, channel, subscriber{actor, false});
}

void subscribe(broadcaster_pointer self, const std::string& channel, const connection_actor& actor,
               const core::subscription_request& request) {
  // Decided, prepared and registered at one point (see add_subscriber).
  // The reply travels the deliveries' path, so it reaches the client before
  // the channel's pushes (and before its own join).
  const auto settle = [&](bool accepted, const std::string& reply) {
    send_reply(self, actor, answering::subscribe, reply,
               {subscription_outcome{channel, request.generation, accepted}});
  };
  const auto refuse = [&](const cp::client_error& error) {
    std::string reply;
    cp::append_error_reply(reply, request.id, error);
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
  if (is_subscribed(self, channel, actor)) {
    // The session answers 105 itself for what it holds or asked for; this
    // is the broadcaster's own guard against a second registration.
    refuse(cp::errors::already_subscribed);
    return;
  }
  prepared_subscription prepared;
  prepare_subscription(self, channel, decision, request.from,
                       (request.flag & cp::flag_reject_unrecovered) != 0, prepared);
  if (prepared.refused) {
    refuse(cp::errors::unrecoverable_position);
    return;
  }
  prepared.expires = request.expires;
  prepared.ttl = request.ttl;
  command_reply reply;
  reply.what = answering::subscribe;
  reply.subscriptions.push_back(subscription_outcome{channel, request.generation, true});
  reply.render = render_subscribe_reply(request.id, std::move(prepared));
  send_delivery(self, actor, std::move(reply));
  register_subscription(self, channel, actor, decision, request.generation, request.chan_info);
}

void connect(broadcaster_pointer self, const connection_actor& actor,
             core::connect_request& request) {
  identify(self, actor, std::move(request.identity));
  const auto& subscriptions = request.subscriptions;
  std::vector<std::pair<std::string, prepared_subscription>> prepared;
  std::vector<core::subscription_decision> decisions(subscriptions.size());
  std::vector<bool> accepted(subscriptions.size());
  command_reply reply;
  reply.what = answering::connect;
  for (std::size_t i = 0; i < subscriptions.size(); ++i) {
    const auto& [channel, generation, from] = subscriptions[i];
    decisions[i] = self->state.policy.server_side_subscribe(channel);
    accepted[i] = decisions[i].allowed() && !is_subscribed(self, channel, actor);
    reply.subscriptions.push_back(subscription_outcome{channel, generation, accepted[i]});
    if (accepted[i]) {
      prepared.emplace_back(channel, prepared_subscription{});
      prepare_subscription(self, channel, decisions[i], from, false, prepared.back().second);
    }
  }
  // Made on the session's thread: the subs may carry recovered publications.
  for (const auto& [channel, subscription] : prepared) {
    reply.render.bytes += data_bytes(subscription.recovery.publications);
  }
  reply.render.append = [id = request.id, result = std::move(request.result),
                         prepared = std::move(prepared)](std::string& out) mutable {
    std::vector<publication_views> missed;
    missed.reserve(prepared.size());  // never reallocated: the results point into it
    for (const auto& [channel, subscription] : prepared) {
      missed.push_back(views_of(subscription.recovery.publications));
      result.subs.emplace_back(channel, result_of(subscription, missed.back()));
    }
    cp::append_connect_reply(out, id, result);
  };
  send_delivery(self, actor, std::move(reply));
  for (std::size_t i = 0; i < subscriptions.size(); ++i) {
    if (accepted[i]) {
      register_subscription(self, subscriptions[i].channel, actor, decisions[i],
                            subscriptions[i].generation, {});
    }
  }
}

// Leaving needs no flush (joining does): what is pending for the channel
// goes to those still in it when the round goes out, and the session drops
// what was on its way to a channel it left. So a join and a leave in one
// round meet in the round, and cancel out.
void unsubscribe(broadcaster_pointer self, const std::string& channel,
                 const connection_actor& actor) {
  if (self->state.registry.unsubscribe(channel, subscriber{actor})) {
    note_leave(self, channel, actor);
    publish_figures(self);
  }
  // The client had its reply from its session; this frees the session's
  // slot for it.
  send_reply(self, actor, command_reply::answering::unsubscribe, {});
}

bool unsubscribe_by_server(broadcaster_pointer self, const std::string& channel,
                           const connection_actor& actor) {
  const subscriber* entry = self->state.registry.find(channel, subscriber{actor});
  if (entry == nullptr) {
    return false;
  }
  const std::uint32_t generation = entry->generation;
  self->state.registry.unsubscribe(channel, subscriber{actor});
  note_leave(self, channel, actor);
  publish_figures(self);
  send_delivery(self, actor, server_unsubscribe{channel, generation});
  return true;
}

void remove_connection(broadcaster_pointer self, const connection_actor& actor) {
  self->state.registry.remove(subscriber{actor});
  forget_client(self, actor);
  publish_figures(self);
}

}  // namespace herald::actors::broadcaster_parts
