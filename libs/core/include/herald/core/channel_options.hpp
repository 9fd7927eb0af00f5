#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace herald::core {

// A channel's behaviour, Centrifugo v5's channel options (configtypes
// ChannelOptions) with its defaults: everything off. Herald's own defaults
// are friendlier (see core::default_channel_options() in settings.hpp);
// settings fills these from the configuration, this file only holds and
// looks them up.
struct channel_options {
  // Presence: who is subscribed (presence, presence_stats).
  bool presence = false;
  // Join/leave pushes to subscribers when clients subscribe and unsubscribe.
  bool join_leave = false;
  // Send join/leave pushes to every subscriber without asking for them.
  bool force_push_join_leave = false;

  // History: kept only when both are positive. history_ttl: the stream
  // expires that long after the channel's last publication.
  std::size_t history_size = 0;
  std::chrono::seconds history_ttl{0};

  // Positioning and recovery: force_* turns it on for every subscriber,
  // allow_* when the subscribe request asks (its positioned / recoverable
  // flags). Recovery needs history.
  bool force_positioning = false;
  bool allow_positioning = false;
  bool force_recovery = false;
  bool allow_recovery = false;

  // Permissions of client-protocol connections. Without them a client needs
  // a channel token to subscribe (Centrifugo v4+ has no private-channel
  // prefix rule beyond the one in channel_namespaces::is_private()), and
  // publish/presence/history are refused with 103 "permission denied".
  // *_for_subscriber: allowed to clients subscribed to the channel;
  // *_for_client: to any authenticated client; *_for_anonymous: also to
  // clients connected without a user id.
  bool allow_subscribe_for_client = false;
  bool allow_subscribe_for_anonymous = false;
  bool allow_publish_for_subscriber = false;
  bool allow_publish_for_client = false;
  bool allow_publish_for_anonymous = false;
  bool allow_presence_for_subscriber = false;
  bool allow_presence_for_client = false;
  bool allow_presence_for_anonymous = false;
  bool allow_history_for_subscriber = false;
  bool allow_history_for_client = false;
  bool allow_history_for_anonymous = false;
  // Channels like "dialog#42,43": only the listed users may subscribe.
  bool allow_user_limited_channels = false;

  bool history_enabled() const { return history_size > 0 && history_ttl.count() > 0; }
};

// The parts of a channel name with a meaning, Centrifugo's defaults
// (channel.namespace_boundary, private_prefix, user_boundary,
// user_separator). An empty string turns that rule off.
struct channel_naming {
  std::string namespace_boundary = ":";
  std::string private_prefix = "$";
  std::string user_boundary = "#";
  std::string user_separator = ",";
};

// The options of every channel: top-level options for channels without a
// namespace and one set per namespace ("chat:room" -> namespace "chat").
// As in Centrifugo, a namespace's options are complete in themselves (the
// settings code decides whether a namespace starts from a copy of the
// top-level options, which is how Herald's namespaces override the
// top-level defaults), and a channel in a namespace that is not configured has
// no options at all: the caller answers 102 "unknown channel".
class channel_namespaces {
 public:
  channel_namespaces() = default;
  explicit channel_namespaces(channel_options defaults, channel_naming naming = {})
      : defaults_(std::move(defaults)), naming_(std::move(naming)) {}

  // Adds namespace `name` or replaces its options.
  void set_namespace(std::string name, channel_options options);
  bool has_namespace(std::string_view name) const;
  std::size_t namespace_count() const { return namespaces_.size(); }
  // The options of namespace `name`; nullptr when it is not configured.
  const channel_options* find_namespace(std::string_view name) const;
  // Every configured namespace, by name.
  const std::map<std::string, channel_options, std::less<>>& namespaces() const {
    return namespaces_;
  }
  // Replaces the top-level options (namespaces keep theirs).
  void set_defaults(channel_options defaults) { defaults_ = std::move(defaults); }

  const channel_options& defaults() const { return defaults_; }
  const channel_naming& naming() const { return naming_; }

  // The namespace part of `channel`: what precedes the first boundary, after
  // the private prefix is stripped ("$chat:x" -> "chat"); empty without a
  // boundary, or when the boundary comes first (":x" uses the top-level
  // options, as in Centrifugo). A view into `channel`.
  std::string_view namespace_of(std::string_view channel) const;

  // The options for `channel`: its namespace's, or the top-level ones
  // without a namespace; nullptr for an unknown namespace (error 102). The
  // pointer stays valid until the namespaces change.
  const channel_options* options_for(std::string_view channel) const;

  // Whether `channel` starts with the private prefix. Centrifugo v4+ refuses
  // such a channel to clients without a channel token even where
  // allow_subscribe_for_client is on.
  bool is_private(std::string_view channel) const;

  // Whether `channel` names the users allowed in it ("dialog#42,43").
  bool is_user_limited(std::string_view channel) const;
  // Whether `user` may subscribe to `channel`: always for a channel that is
  // not user-limited, else iff `user` is among those after the last user
  // boundary. Only meaningful where allow_user_limited_channels is on.
  bool user_allowed(std::string_view channel, std::string_view user) const;

 private:
  channel_options defaults_;
  channel_naming naming_;
  std::map<std::string, channel_options, std::less<>> namespaces_;
};

}  // namespace herald::core
