#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

#include "herald/core/channel_history.hpp"
#include "herald/core/channel_options.hpp"

// What a client may do on a channel, decided in one place: Centrifugo's
// permission rules over the channel options (channel_options.hpp), as its
// client handler applies them (centrifugo internal/client/handler.go:
// OnSubscribe, OnPublish, OnPresence, OnPresenceStats, OnHistory; the
// recovery and positioning rules of centrifuge's client.go). Pure: it takes
// the options, who asks and what is asked, and returns one decision. The
// broadcaster evaluates it once per request, holding the state the decision
// needs (whether the client is subscribed).
namespace herald::core {

// Why a request is refused. Each maps to one client-protocol error code,
// except invalid_token, which disconnects the client (3500), as Centrifugo
// does for a channel token issued for another channel or user.
enum class channel_refusal : std::uint8_t {
  none,               // allowed
  unknown_channel,    // 102: the channel's namespace is not configured
  permission_denied,  // 103
  not_available,      // 108: the channel's options leave the feature off
  token_expired,      // 109: the channel token's `exp` has passed
  invalid_token,      // disconnect 3500: a token for another channel or user
};

// The outcome of checking a subscribe's channel token (the session verifies
// the signature off the broadcaster's thread and says what it found).
enum class channel_token : std::uint8_t {
  none,     // the subscribe carried no token
  valid,    // signed, unexpired, for this channel and this client's user
  expired,  // signed, past its `exp`
  invalid,  // not verifiable: bad signature, malformed, wrong algorithm
  foreign,  // valid, but for another channel or another user
};

// Who asks: Centrifugo's *_for_anonymous options look at whether the client
// connected with a user id.
struct requester {
  std::string_view user;  // "" for an anonymous client
  bool anonymous() const { return user.empty(); }
};

// What a subscribe asks for (SubscribeRequest's flags).
struct subscription_ask {
  channel_token token = channel_token::none;
  bool recoverable = false;  // the client wants recovery
  bool positioned = false;   // the client wants positions
  bool join_leave = false;   // the client wants join/leave pushes
};

// What a subscription gets, when it is allowed.
struct subscription_decision {
  channel_refusal refusal = channel_refusal::none;
  // The subscription's stream features: recoverable where forced or asked
  // (and allowed); positioned with recovery, or where forced or asked (and
  // allowed). Both need history.
  bool recoverable = false;
  bool positioned = false;
  // The subscriber is sent the channel's join/leave pushes.
  bool join_leave_pushes = false;
  // The channel keeps presence, so this client's presence is recorded
  // (presence queries or join/leave pushes need it).
  bool tracks_presence = false;
  // The client's own join and leave are pushed to the channel's subscribers
  // that take such pushes.
  bool announces_join_leave = false;

  bool allowed() const { return refusal == channel_refusal::none; }
};

// A channel's state a client may read.
enum class channel_read : std::uint8_t { presence, history };

class channel_policy {
 public:
  // Every channel with default options and no namespaces.
  channel_policy() : channel_policy(std::make_shared<const channel_namespaces>()) {}
  explicit channel_policy(std::shared_ptr<const channel_namespaces> namespaces)
      : namespaces_(std::move(namespaces)) {}

  // A client's subscribe to `channel`. Order, as Centrifugo: unknown
  // namespace (102); then the channel token decides alone when there is one
  // (109, 103, or disconnect 3500 when it names another channel or user);
  // without one, private channels are refused, a user-limited channel
  // ("dialog#42,43") admits the users it lists where the namespace allows
  // such channels, and any other needs allow-subscribe-for-client (and for
  // an anonymous client allow-subscribe-for-anonymous) (103). Recovery and
  // positions are granted where the namespace allows them or the client may
  // read the history anyway; join/leave pushes only to a client that may
  // read presence, since they carry other clients' info.
  subscription_decision subscribe(std::string_view channel, const requester& who,
                                  const subscription_ask& ask) const;

  // A subscription the server makes (a connect token's `channels`): the
  // token grants it, so only the namespace must exist. Asks for nothing.
  subscription_decision server_side_subscribe(std::string_view channel) const;

  // A client's publish: 102, or 103 unless allow-publish-for-client, or
  // allow-publish-for-subscriber and `subscribed`, lets it in (an anonymous
  // client also needs allow-publish-for-anonymous).
  channel_refusal publish(std::string_view channel, const requester& who, bool subscribed) const;

  // A client's presence, presence_stats or history: 102; 108 when the
  // channel keeps no presence or history; then the publish rule with the
  // allow-presence-* or allow-history-* options (103).
  channel_refusal read(channel_read what, std::string_view channel, const requester& who,
                       bool subscribed) const;

  // The server API's reads and history_remove: trusted, so only 102 and 108.
  channel_refusal api_read(channel_read what, std::string_view channel) const;

  // Whether the channel's namespace is configured (the server API's
  // publish, broadcast and unsubscribe answer 102 otherwise).
  bool known(std::string_view channel) const;

  // The history `channel` keeps; off when none or unknown.
  history_options history(std::string_view channel) const;

  // Whether `channel` pushes join and leave to its subscribers.
  bool pushes_join_leave(std::string_view channel) const;

 private:
  const channel_namespaces& namespaces() const { return *namespaces_; }

  std::shared_ptr<const channel_namespaces> namespaces_;
};

}  // namespace herald::core
