#include "herald/core/channel_policy.hpp"

namespace herald::core {
namespace {

// Centrifugo's rule for publish, presence and history: the *_for_client or
// (when subscribed) the *_for_subscriber option lets a client in; the
// *_for_anonymous option only lets those apply to a client without a user.
struct permission {
  bool for_client;
  bool for_subscriber;
  bool for_anonymous;
};

bool permits(const permission& allow, const requester& who, bool subscribed) {
  return (!who.anonymous() || allow.for_anonymous) &&
         (allow.for_client || (subscribed && allow.for_subscriber));
}

permission presence_permission(const channel_options& options) {
  return {options.allow_presence_for_client, options.allow_presence_for_subscriber,
          options.allow_presence_for_anonymous};
}

permission history_permission(const channel_options& options) {
  return {options.allow_history_for_client, options.allow_history_for_subscriber,
          options.allow_history_for_anonymous};
}

bool keeps(channel_read what, const channel_options& options) {
  return what == channel_read::history ? options.history_enabled() : options.presence;
}

// Without a channel token: never a private channel; a user-limited channel
// admits the users it lists where the namespace allows such channels; any
// other needs allow-subscribe-for-client, and for a client without a user
// also allow-subscribe-for-anonymous.
bool may_subscribe_without_token(const channel_namespaces& namespaces,
                                 const channel_options& options, std::string_view channel,
                                 const requester& who) {
  if (namespaces.is_private(channel)) {
    return false;
  }
  if (options.allow_user_limited_channels && namespaces.is_user_limited(channel)) {
    return namespaces.user_allowed(channel, who.user);
  }
  return options.allow_subscribe_for_client &&
         (!who.anonymous() || options.allow_subscribe_for_anonymous);
}

channel_refusal refusal_of(channel_token token) {
  switch (token) {
    case channel_token::expired:
      return channel_refusal::token_expired;
    case channel_token::invalid:
      return channel_refusal::permission_denied;  // Centrifugo: a bad token is 103
    case channel_token::foreign:
      return channel_refusal::invalid_token;
    case channel_token::none:
    case channel_token::valid:
      break;
  }
  return channel_refusal::none;
}

// What every allowed subscription to a channel with `options` gets before
// the client's own asks are weighed.
subscription_decision allowed_on(const channel_options& options) {
  subscription_decision decision;
  decision.tracks_presence = options.presence || options.join_leave;
  decision.announces_join_leave = options.join_leave;
  decision.join_leave_pushes = options.join_leave && options.force_push_join_leave;
  if (options.history_enabled()) {
    decision.recoverable = options.force_recovery;
    decision.positioned = options.force_recovery || options.force_positioning;
  }
  return decision;
}

}  // namespace

subscription_decision channel_policy::subscribe(std::string_view channel, const requester& who,
                                                const subscription_ask& ask) const {
  const channel_options* options = namespaces().options_for(channel);
  if (options == nullptr) {
    return {channel_refusal::unknown_channel};
  }
  if (ask.token != channel_token::none) {
    if (const channel_refusal refused = refusal_of(ask.token); refused != channel_refusal::none) {
      return {refused};
    }
  } else if (!may_subscribe_without_token(namespaces(), *options, channel, who)) {
    return {channel_refusal::permission_denied};
  }
  subscription_decision decision = allowed_on(*options);
  // As Centrifugo: recovery and positions where the namespace allows them or
  // the client may read the history anyway.
  const bool history_access = permits(history_permission(*options), who, true);
  const bool presence_access = permits(presence_permission(*options), who, true);
  if (options->history_enabled()) {
    const bool recoverable = ask.recoverable && (options->allow_recovery || history_access);
    const bool positioned = ask.positioned && (options->allow_positioning || history_access);
    decision.recoverable = decision.recoverable || recoverable;
    decision.positioned = decision.positioned || decision.recoverable || positioned;
  }
  decision.join_leave_pushes =
      decision.join_leave_pushes || (options->join_leave && ask.join_leave && presence_access);
  return decision;
}

subscription_decision channel_policy::server_side_subscribe(std::string_view channel) const {
  const channel_options* options = namespaces().options_for(channel);
  if (options == nullptr) {
    return {channel_refusal::unknown_channel};
  }
  return allowed_on(*options);
}

channel_refusal channel_policy::publish(std::string_view channel, const requester& who,
                                        bool subscribed) const {
  const channel_options* options = namespaces().options_for(channel);
  if (options == nullptr) {
    return channel_refusal::unknown_channel;
  }
  const permission allow{options->allow_publish_for_client, options->allow_publish_for_subscriber,
                         options->allow_publish_for_anonymous};
  return permits(allow, who, subscribed) ? channel_refusal::none
                                         : channel_refusal::permission_denied;
}

channel_refusal channel_policy::read(channel_read what, std::string_view channel,
                                     const requester& who, bool subscribed) const {
  const channel_refusal refused = api_read(what, channel);
  if (refused != channel_refusal::none) {
    return refused;
  }
  const channel_options& options = *namespaces().options_for(channel);
  const permission allow =
      what == channel_read::history ? history_permission(options) : presence_permission(options);
  return permits(allow, who, subscribed) ? channel_refusal::none
                                         : channel_refusal::permission_denied;
}

channel_refusal channel_policy::api_read(channel_read what, std::string_view channel) const {
  const channel_options* options = namespaces().options_for(channel);
  if (options == nullptr) {
    return channel_refusal::unknown_channel;
  }
  return keeps(what, *options) ? channel_refusal::none : channel_refusal::not_available;
}

bool channel_policy::known(std::string_view channel) const {
  return namespaces().options_for(channel) != nullptr;
}

history_options channel_policy::history(std::string_view channel) const {
  const channel_options* options = namespaces().options_for(channel);
  if (options == nullptr || !options->history_enabled()) {
    return {};
  }
  return {options->history_size, options->history_ttl};
}

bool channel_policy::pushes_join_leave(std::string_view channel) const {
  const channel_options* options = namespaces().options_for(channel);
  return options != nullptr && options->join_leave;
}

}  // namespace herald::core
