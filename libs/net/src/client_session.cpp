#include "client_session.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

#include "herald/core/websocket_frame.hpp"

namespace herald::net {
namespace {

namespace cp = core::client_protocol;

// Centrifugo's subscribe permission without a channel token: never a
// private channel; a user-limited channel ("dialog#42,43") admits the users
// it lists where the namespace allows such channels; any other channel needs
// allow-subscribe-for-client, and for a client without a user also
// allow-subscribe-for-anonymous.
bool may_subscribe(const core::channel_namespaces& namespaces, const core::channel_options& options,
                   std::string_view channel, std::string_view user, bool anonymous) {
  if (namespaces.is_private(channel)) {
    return false;
  }
  if (options.allow_user_limited_channels && namespaces.is_user_limited(channel)) {
    return namespaces.user_allowed(channel, user);
  }
  return options.allow_subscribe_for_client &&
         (!anonymous || options.allow_subscribe_for_anonymous);
}

// Centrifugo's rule for publish, presence and history: the *_for_client or
// (when subscribed) the *_for_subscriber option lets a client in; the
// *_for_anonymous option only lets those apply to a client without a user.
struct permission_options {
  bool for_client;
  bool for_subscriber;
  bool for_anonymous;
};

bool may(const permission_options& allow, bool subscribed, bool anonymous) {
  return (!anonymous || allow.for_anonymous) &&
         (allow.for_client || (subscribed && allow.for_subscriber));
}

constexpr std::string_view server_version = "herald 0.1.0";

// Subscribes and queries whose reply the broadcaster has not sent back yet,
// per connection; a query beyond this gets error 111 (temporary). Each reply
// is built on the broadcaster's one thread (a history reply can hold 300
// publications), so one client must not queue thousands in a frame.
constexpr std::uint32_t max_requests_in_flight = 32;

// A random client id in UUID v4 form, as Centrifugo gives.
std::string make_client_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::uint64_t high = random();
  const std::uint64_t low = random();
  static constexpr char digits[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 32; ++i) {
    const std::uint64_t word = i < 16 ? high : low;
    unsigned nibble = static_cast<unsigned>((word >> ((15 - i % 16) * 4)) & 0xf);
    if (i == 12) {
      nibble = 4;  // version 4
    } else if (i == 16) {
      nibble = 8 | (nibble & 3);  // RFC 4122 variant
    }
    if (i == 8 || i == 12 || i == 16 || i == 20) {
      id.push_back('-');
    }
    id.push_back(digits[nibble]);
  }
  return id;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint32_t seconds_of(std::chrono::milliseconds duration) {
  return static_cast<std::uint32_t>(std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(duration).count()));
}

// `expires`/`ttl` of connect and refresh replies for a token's `exp`.
void set_expiry(const std::optional<std::int64_t>& expires_at, bool& expires, std::uint32_t& ttl) {
  if (expires_at) {
    expires = true;
    // Capped at a year, as Centrifugo does, so a far `exp` cannot wrap.
    constexpr std::int64_t max_ttl = 365LL * 24 * 3600;
    ttl =
        static_cast<std::uint32_t>(std::clamp<std::int64_t>(*expires_at - unix_now(), 0, max_ttl));
  }
}

}  // namespace

client_session::client_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx)
    : websocket_transport(std::move(socket), ctx, core::protocol::centrifuge),
      ping_timer_(ws_.get_executor()) {}

client_session::~client_session() {
  finish();
}

std::shared_ptr<client_session> client_session::shared_self() {
  return std::static_pointer_cast<client_session>(shared_from_this());
}

void client_session::run(request upgrade) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = ctx_.settings.handshake_timeout;
  // The protocol has its own pings (`{}`), announced in the connect reply.
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  accept(std::move(upgrade), timeouts, ctx_.hub.connect_client(weak_from_this()));
}

void client_session::on_open() {
  // A client that never sends connect is cut after the handshake timeout.
  ping_timer_.expires_after(ctx_.settings.handshake_timeout);
  ping_timer_.async_wait(beast::bind_front_handler(&client_session::on_ping_timer, shared_self()));
}

void client_session::on_message(std::string_view text, bool binary) {
  if (binary) {
    disconnect(cp::disconnects::bad_request);  // this endpoint speaks JSON
    return;
  }
  handle_frame(text);
}

void client_session::handle_frame(std::string_view frame) {
  const cp::frame_decode_result decoded = cp::decode_frame(frame);
  std::string replies;
  const cp::disconnect_advice* verdict = nullptr;
  for (const auto& item : decoded.items) {
    if (const auto* error = std::get_if<cp::command_error>(&item)) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, error->id, error->error);
      continue;
    }
    verdict = handle(std::get<cp::command>(item), replies);
    if (verdict != nullptr) {
      break;
    }
  }
  if (!replies.empty()) {
    send_text(std::move(replies));
  }
  if (verdict == nullptr && decoded.disconnect) {
    verdict = &*decoded.disconnect;
  }
  if (verdict != nullptr) {
    disconnect(*verdict);
  }
}

const cp::disconnect_advice* client_session::handle(const cp::command& command,
                                                    std::string& replies) {
  const std::uint32_t id = command.id;
  const core::channel_namespaces& namespaces = ctx_.settings.namespaces;
  if (std::holds_alternative<cp::pong>(command.body)) {
    if (!awaiting_pong_) {
      return &cp::disconnects::bad_request;  // a pong that answers no ping
    }
    awaiting_pong_ = false;
    return nullptr;
  }
  if (const auto* connect = std::get_if<cp::connect_request>(&command.body)) {
    if (connected_) {
      return &cp::disconnects::bad_request;  // connect twice
    }
    return handle_connect(id, *connect, replies);
  }
  if (!connected_) {
    return &cp::disconnects::bad_request;  // every other command needs connect first
  }
  if (const auto* subscribe = std::get_if<cp::subscribe_request>(&command.body)) {
    return handle_subscribe(id, *subscribe, replies);
  }
  if (const auto* unsubscribe = std::get_if<cp::unsubscribe_request>(&command.body)) {
    forget_channel(unsubscribe->channel);
    if (channels_.erase(unsubscribe->channel) > 0) {
      connection_.leave(unsubscribe->channel);
    }
    cp::append_separator(replies);
    cp::append_unsubscribe_reply(replies, id);
    return nullptr;
  }
  if (const auto* publish = std::get_if<cp::publish_request>(&command.body)) {
    cp::append_separator(replies);
    const core::channel_options* options = namespaces.options_for(publish->channel);
    if (options == nullptr) {
      cp::append_error_reply(replies, id, cp::errors::unknown_channel);
    } else if (!may({options->allow_publish_for_client, options->allow_publish_for_subscriber,
                     options->allow_publish_for_anonymous},
                    channels_.count(publish->channel) > 0, user_.empty())) {
      cp::append_error_reply(replies, id, cp::errors::permission_denied);
    } else {
      connection_.publish(
          publish->channel,
          core::make_publication(publish->data, nullptr, publisher_for(publish->channel)));
      cp::append_publish_reply(replies, id);
    }
    return nullptr;
  }
  if (const auto* presence = std::get_if<cp::presence_request>(&command.body)) {
    core::channel_query request;
    request.what = core::channel_query::kind::presence;
    query(id, presence->channel, std::move(request), replies);
    return nullptr;
  }
  if (const auto* stats = std::get_if<cp::presence_stats_request>(&command.body)) {
    core::channel_query request;
    request.what = core::channel_query::kind::presence_stats;
    query(id, stats->channel, std::move(request), replies);
    return nullptr;
  }
  if (const auto* history = std::get_if<cp::history_request>(&command.body)) {
    core::channel_query request;
    request.what = core::channel_query::kind::history;
    request.limit = history->limit;
    request.since = history->since;
    request.reverse = history->reverse;
    query(id, history->channel, std::move(request), replies);
    return nullptr;
  }
  if (const auto* sub_refresh = std::get_if<cp::sub_refresh_request>(&command.body)) {
    return handle_sub_refresh(id, *sub_refresh, replies);
  }
  if (const auto* refresh = std::get_if<cp::refresh_request>(&command.body)) {
    return handle_refresh(id, *refresh, replies);
  }
  if (std::holds_alternative<cp::send_request>(command.body)) {
    return nullptr;  // accepted; without a backend nothing handles it (SPEC 2.2)
  }
  // rpc and the ping command have no backend here: 108, as Centrifugo
  // answers without an RPC handler.
  cp::append_separator(replies);
  cp::append_error_reply(replies, id, cp::errors::not_available);
  return nullptr;
}

const cp::disconnect_advice* client_session::handle_connect(std::uint32_t id,
                                                            const cp::connect_request& request,
                                                            std::string& replies) {
  cp::connect_result result;
  core::client_identity identity;
  std::vector<std::string> server_side_channels;
  if (request.token.empty()) {
    if (!ctx_.settings.allow_anonymous) {
      return &cp::disconnects::invalid_token;
    }
  } else {
    auto verified = ctx_.tokens.verify_connect(request.token, unix_now());
    if (verified.problem == core::token_problem::expired) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::token_expired);
      return nullptr;
    }
    if (!verified.ok()) {
      return &cp::disconnects::invalid_token;
    }
    user_ = verified.claims.user;
    expires_at_ = verified.claims.expires_at;
    set_expiry(expires_at_, result.expires, result.ttl);
    identity.conn_info = std::move(verified.claims.info_json);
    server_side_channels = std::move(verified.claims.channels);
  }
  connected_ = true;
  client_id_ = make_client_id();
  identity.client_id = client_id_;
  identity.user = user_;
  publisher_ = std::make_shared<const core::publisher_info>(
      core::publisher_info{user_, client_id_, identity.conn_info, {}});
  connection_.identify(std::move(identity));
  result.client = client_id_;
  result.version = server_version;
  result.ping = seconds_of(ctx_.settings.ping_interval);
  result.pong = true;
  // The token's `channels`: subscribed by the server. The broadcaster then
  // builds the reply, whose `subs` carry each one's result (recovered
  // publications for a client that sent its positions in `subs`), ahead of
  // their pushes.
  core::connect_reply_request with_subs;
  for (const auto& channel : server_side_channels) {
    if (ctx_.settings.namespaces.options_for(channel) == nullptr ||
        channels_.size() >= ctx_.settings.client_channel_limit ||
        !channels_.emplace(channel, next_generation_).second) {
      continue;
    }
    core::join_request join;
    join.generation = next_generation_++;
    for (const auto& position : request.subs) {
      if (position.channel == channel) {
        join.recover = position.recover;
        join.offset = position.offset;
        join.epoch = position.epoch;
      }
    }
    with_subs.subs.emplace_back(channel, std::move(join));
  }
  if (with_subs.subs.empty()) {
    cp::append_separator(replies);
    cp::append_connect_reply(replies, id, result);
  } else {
    with_subs.id = id;
    with_subs.client = std::string{result.client};
    with_subs.version = std::string{result.version};
    with_subs.expires = result.expires;
    with_subs.ttl = result.ttl;
    with_subs.ping = result.ping;
    with_subs.pong = result.pong;
    ++requests_in_flight_;  // its reply comes back as any other
    connection_.connect_with(std::move(with_subs));
  }
  schedule_ping();
  return nullptr;
}

const cp::disconnect_advice* client_session::handle_subscribe(std::uint32_t id,
                                                              const cp::subscribe_request& request,
                                                              std::string& replies) {
  const core::channel_namespaces& namespaces = ctx_.settings.namespaces;
  const core::channel_options* options = namespaces.options_for(request.channel);
  const auto refuse = [&](const cp::client_error& error) -> const cp::disconnect_advice* {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, error);
    return nullptr;
  };
  if (request.type != 0) {
    return refuse(cp::errors::not_available);
  }
  if (options == nullptr) {
    return refuse(cp::errors::unknown_channel);
  }
  core::join_request join;
  join.id = id;
  join.recover = request.recover;
  join.offset = request.offset;
  join.epoch = request.epoch;
  // As Centrifugo: recovery and positions where the namespace allows them
  // or the client may read the history anyway; join/leave pushes only to
  // a client that may read presence (they carry other clients' info).
  const bool anonymous = user_.empty();
  const bool history_access =
      may({options->allow_history_for_client, options->allow_history_for_subscriber,
           options->allow_history_for_anonymous},
          true, anonymous);
  const bool presence_access =
      may({options->allow_presence_for_client, options->allow_presence_for_subscriber,
           options->allow_presence_for_anonymous},
          true, anonymous);
  join.recoverable = request.recoverable && (options->allow_recovery || history_access);
  join.positioned = request.positioned && (options->allow_positioning || history_access);
  join.join_leave = request.join_leave && presence_access;
  join.flag = request.flag;
  std::optional<std::int64_t> expires_at;
  if (!request.token.empty()) {
    // A channel token grants the subscription whatever the namespace's
    // permissions say (private channels need one), as in Centrifugo.
    auto verified = ctx_.tokens.verify_channel(request.token, unix_now());
    if (verified.problem == core::token_problem::expired) {
      return refuse(cp::errors::token_expired);
    }
    if (!verified.ok()) {
      return refuse(cp::errors::permission_denied);  // Centrifugo: a bad token is 103
    }
    if (verified.claims.channel != request.channel || verified.claims.user != user_) {
      return &cp::disconnects::invalid_token;  // a token for someone or something else
    }
    join.chan_info = std::move(verified.claims.info_json);
    expires_at = verified.claims.expires_at;
    set_expiry(expires_at, join.expires, join.ttl);
  } else if (!may_subscribe(namespaces, *options, request.channel, user_, user_.empty())) {
    return refuse(cp::errors::permission_denied);
  }
  if (channels_.size() >= ctx_.settings.client_channel_limit &&
      channels_.count(request.channel) == 0) {
    return refuse(cp::errors::limit_exceeded);
  }
  if (!channels_.emplace(request.channel, next_generation_).second) {
    return refuse(cp::errors::already_subscribed);
  }
  join.generation = next_generation_++;
  // Not capped: client-channel-limit bounds the subscribes in flight.
  ++requests_in_flight_;
  if (expires_at) {
    channel_expiry_[request.channel] = *expires_at;
  }
  if (!join.chan_info.empty()) {
    core::publisher_info with_channel_info = *publisher_;
    with_channel_info.chan_info = join.chan_info;
    channel_publishers_[request.channel] =
        std::make_shared<const core::publisher_info>(std::move(with_channel_info));
  }
  // The reply comes from the broadcaster, ahead of the publications.
  connection_.join(request.channel, std::move(join));
  return nullptr;
}

void client_session::query(std::uint32_t id, const std::string& channel,
                           core::channel_query request, std::string& replies) {
  const core::channel_options* options = ctx_.settings.namespaces.options_for(channel);
  const cp::client_error* error = nullptr;
  if (options == nullptr) {
    error = &cp::errors::unknown_channel;
  } else {
    const bool history = request.what == core::channel_query::kind::history;
    const bool enabled = history ? options->history_enabled() : options->presence;
    const permission_options allow =
        history ? permission_options{options->allow_history_for_client,
                                     options->allow_history_for_subscriber,
                                     options->allow_history_for_anonymous}
                : permission_options{options->allow_presence_for_client,
                                     options->allow_presence_for_subscriber,
                                     options->allow_presence_for_anonymous};
    if (!enabled) {
      error = &cp::errors::not_available;
    } else if (!may(allow, channels_.count(channel) > 0, user_.empty())) {
      error = &cp::errors::permission_denied;
    }
  }
  if (error != nullptr) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, *error);
    return;
  }
  if (requests_in_flight_ >= max_requests_in_flight) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::too_many_requests);
    return;
  }
  ++requests_in_flight_;
  // Answered by the broadcaster, which holds presence and history.
  request.id = id;
  connection_.query(channel, std::move(request));
}

const cp::disconnect_advice* client_session::handle_refresh(std::uint32_t id,
                                                            const cp::refresh_request& request,
                                                            std::string& replies) {
  const auto verified = ctx_.tokens.verify_connect(request.token, unix_now());
  if (verified.problem == core::token_problem::expired) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::token_expired);
    return nullptr;
  }
  if (!verified.ok() || verified.claims.user != user_) {
    return &cp::disconnects::invalid_token;
  }
  expires_at_ = verified.claims.expires_at;
  cp::refresh_result result;
  result.client = client_id_;
  result.version = server_version;
  set_expiry(expires_at_, result.expires, result.ttl);
  cp::append_separator(replies);
  cp::append_refresh_reply(replies, id, result);
  return nullptr;
}

const cp::disconnect_advice* client_session::handle_sub_refresh(
    std::uint32_t id, const cp::sub_refresh_request& request, std::string& replies) {
  if (channels_.count(request.channel) == 0) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::permission_denied);
    return nullptr;
  }
  const auto verified = ctx_.tokens.verify_channel(request.token, unix_now());
  if (verified.problem == core::token_problem::expired) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::token_expired);
    return nullptr;
  }
  if (!verified.ok() || verified.claims.channel != request.channel ||
      verified.claims.user != user_) {
    return &cp::disconnects::invalid_token;
  }
  bool expires = false;
  std::uint32_t ttl = 0;
  set_expiry(verified.claims.expires_at, expires, ttl);
  if (verified.claims.expires_at) {
    channel_expiry_[request.channel] = *verified.claims.expires_at;
  } else {
    channel_expiry_.erase(request.channel);
  }
  cp::append_separator(replies);
  cp::append_sub_refresh_reply(replies, id, expires, ttl);
  return nullptr;
}

bool client_session::enforce_expiry() {
  // Checked at each ping, so a token gets up to a ping interval of grace
  // past its `exp`, as Centrifugo's client_expired_close_delay gives.
  const std::int64_t now = unix_now();
  if (expires_at_ && now > *expires_at_) {
    disconnect(cp::disconnects::expired);
    return false;
  }
  std::string pushes;
  for (auto it = channel_expiry_.begin(); it != channel_expiry_.end();) {
    if (now <= it->second) {
      ++it;
      continue;
    }
    const std::string channel = it->first;
    it = channel_expiry_.erase(it);
    channels_.erase(channel);
    channel_publishers_.erase(channel);
    connection_.leave(channel);
    cp::append_separator(pushes);
    cp::append_unsubscribe_push(pushes, channel, cp::unsubscribes::expired);
  }
  if (!pushes.empty()) {
    send_text(std::move(pushes));
  }
  return true;
}

void client_session::server_unsubscribe(std::string channel, std::uint32_t generation, bool push) {
  run_in_order([self = shared_self(), channel = std::move(channel), generation, push] {
    auto it = self->channels_.find(channel);
    if (it == self->channels_.end() || it->second != generation) {
      return;  // meant for a subscription the client already left
    }
    self->channels_.erase(it);
    self->forget_channel(channel);
    if (!push) {
      return;
    }
    std::string text;
    cp::append_unsubscribe_push(text, channel, cp::unsubscribes::server);
    self->send_text(std::move(text));
  });
}

void client_session::server_disconnect(std::uint32_t code, std::string reason) {
  // The API may name any number; a close frame may carry only these.
  const bool sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                        (code >= 3000 && code <= 4999);
  if (!sendable) {
    code = cp::disconnects::force_no_reconnect.code;
    reason = std::string{cp::disconnects::force_no_reconnect.reason};
  }
  // In order with the deliveries before it: they go out first.
  run_in_order([self = shared_self(), code, reason = std::move(reason)] {
    self->start_close(static_cast<std::uint16_t>(code), reason, false);
  });
}

void client_session::schedule_ping() {
  // One timer: ping-interval until the ping, then pong-timeout for the pong.
  ping_timer_.expires_after(ctx_.settings.ping_interval);
  ping_timer_.async_wait(beast::bind_front_handler(&client_session::on_ping_timer, shared_self()));
}

void client_session::on_ping_timer(beast::error_code ec) {
  if (ec || closing_ || finished_) {
    return;
  }
  if (!connected_) {
    disconnect(cp::disconnects::stale);  // no connect within the handshake timeout
    return;
  }
  if (awaiting_pong_) {
    disconnect(cp::disconnects::no_pong);
    return;
  }
  if (!enforce_expiry()) {
    return;
  }
  awaiting_pong_ = true;
  send_text(std::string{cp::ping_message});
  // The pong is checked pong-timeout after the ping, and the next ping goes
  // out ping-interval after this one, as announced (check_settings keeps
  // pong-timeout below ping-interval).
  const auto pong_timeout = ctx_.settings.pong_timeout;
  const auto rest = ctx_.settings.ping_interval - pong_timeout;
  ping_timer_.expires_after(pong_timeout);
  ping_timer_.async_wait([self = shared_self(), rest](beast::error_code wait_ec) {
    if (wait_ec || self->closing_ || self->finished_) {
      return;
    }
    if (self->awaiting_pong_) {
      self->disconnect(cp::disconnects::no_pong);
      return;
    }
    self->ping_timer_.expires_after(rest);
    self->ping_timer_.async_wait(beast::bind_front_handler(&client_session::on_ping_timer, self));
  });
}

void client_session::disconnect(const cp::disconnect_advice& advice) {
  start_close(static_cast<std::uint16_t>(advice.code), advice.reason, false);
}

std::shared_ptr<const core::publisher_info> client_session::publisher_for(
    const std::string& channel) const {
  auto it = channel_publishers_.find(channel);
  return it == channel_publishers_.end() ? publisher_ : it->second;
}

void client_session::forget_channel(const std::string& channel) {
  channel_expiry_.erase(channel);
  channel_publishers_.erase(channel);
}

bool client_session::wants(const core::frame_batch& batch) {
  if (batch.channel.empty()) {
    // A reply to a subscribe or query (the broadcaster sends nothing else
    // without a channel).
    if (requests_in_flight_ > 0) {
      --requests_in_flight_;
    }
    return true;
  }
  // Pushes that were on their way when the client unsubscribed: the
  // broadcaster sent them before it saw the unsubscribe.
  return channels_.count(batch.channel) > 0;
}

websocket_transport::close_advice client_session::slow_close() const {
  return {static_cast<std::uint16_t>(cp::disconnects::slow.code), cp::disconnects::slow.reason};
}

websocket_transport::close_advice client_session::shutdown_close() const {
  return {static_cast<std::uint16_t>(cp::disconnects::shutdown.code),
          cp::disconnects::shutdown.reason};
}

void client_session::on_finish() {
  ping_timer_.cancel();
}

}  // namespace herald::net
