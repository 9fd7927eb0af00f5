#include "client_session.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <random>
#include <type_traits>

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

#include "connection_log.hpp"
#include "dashboard.hpp"
#include "herald/core/dashboard.hpp"
#include "herald/core/websocket_frame.hpp"

namespace herald::net {
namespace {

namespace cp = core::client_protocol;

constexpr std::string_view server_version = "herald 0.1.0";

// Queries (presence, presence_stats, history) whose reply the broadcaster
// has not sent back yet, per connection; a query beyond this gets error 111
// (temporary). Each reply is built on the broadcaster's one thread (a
// history reply can hold 300 publications), so one client must not queue
// thousands in a frame. Subscribes are bounded by client-channel-limit,
// since a subscribe counts against it from the moment it is asked.
constexpr std::uint32_t max_queries_in_flight = 32;

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

client_session::client_session(accepted_stream&& stream, server_context& ctx)
    : websocket_transport(std::move(stream), ctx, core::protocol::centrifuge),
      ping_timer_(ws_.get_executor()) {}

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
  frame_ = cp::decode_frame(text);
  next_command_ = 0;
  handle_commands();
  if (next_command_ < frame_.items.size()) {
    pause_reading();  // the rest waits for the broadcaster's replies
  }
}

void client_session::on_requests_drained() {
  if (next_command_ < frame_.items.size()) {
    handle_commands();
    if (next_command_ < frame_.items.size()) {
      return;  // at a bound again: the next replies go on
    }
  }
  resume_reading();
}

void client_session::handle_commands() {
  std::string replies;
  std::optional<cp::disconnect_advice> verdict;
  // One command at a time while the connection is under its bounds on what
  // it has at the broadcaster; the rest of the frame waits for replies, in
  // order, and the client's next frame is not read meanwhile.
  while (next_command_ < frame_.items.size() && !at_request_bound()) {
    const auto& item = frame_.items[next_command_++];
    if (const auto* error = std::get_if<cp::command_error>(&item)) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, error->id, error->error);
      continue;
    }
    if (const auto* advice = handle(std::get<cp::command>(item), replies)) {
      verdict = *advice;
      break;
    }
  }
  if (!replies.empty()) {
    send_text(std::move(replies));
  }
  const bool frame_done = verdict || next_command_ == frame_.items.size();
  if (!verdict && frame_done && frame_.disconnect) {
    verdict = *frame_.disconnect;
  }
  if (frame_done) {
    frame_ = {};  // its memory goes now, not with the next frame
    next_command_ = 0;
  }
  if (verdict) {
    disconnect(*verdict);
  }
}

const cp::disconnect_advice* client_session::handle(const cp::command& command,
                                                    std::string& replies) {
  const std::uint32_t id = command.id;
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
  if (dashboard_ && !dashboard_connection_may(command)) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::permission_denied);
    return nullptr;
  }
  if (const auto* subscribe = std::get_if<cp::subscribe_request>(&command.body)) {
    return handle_subscribe(id, *subscribe, replies);
  }
  if (const auto* unsubscribe = std::get_if<cp::unsubscribe_request>(&command.body)) {
    // Settled or not: the broadcaster takes the leave after the join.
    if (subscriptions_.erase(unsubscribe->channel) > 0) {
      note_request();
      connection_.leave(unsubscribe->channel);
    }
    cp::append_separator(replies);
    cp::append_unsubscribe_reply(replies, id);
    return nullptr;
  }
  if (const auto* publish = std::get_if<cp::publish_request>(&command.body)) {
    // The broadcaster checks it (it knows whether the client is subscribed
    // at that point) and replies.
    note_request(publish->data.size());
    connection_.publish(
        publish->channel,
        core::make_publication(publish->data, nullptr, publisher_for(publish->channel)), id);
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
    return nullptr;  // accepted; without a backend nothing handles it (docs/protocol.md)
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
  const auto dashboard = verify_dashboard_token(ctx_, request.token);
  if (dashboard == core::token_problem::expired) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::token_expired);
    return nullptr;
  }
  if (dashboard == core::token_problem::none) {
    dashboard_ = true;  // anonymous, with the stats channel alone open to it
  } else if (request.token.empty()) {
    if (!ctx_.settings.allow_anonymous) {
      connection_log::anonymous_refused(beast::get_lowest_layer(ws_));
      return &cp::disconnects::invalid_token;
    }
  } else {
    auto verified = ctx_.tokens.verify_connect(request.token, unix_now());
    connection_log::token_checked("connect", verified.problem, true, ctx_.tokens,
                                  beast::get_lowest_layer(ws_));
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
  core::connect_request connect;
  connect.id = id;
  connect.identity = std::move(identity);
  connect.result = std::move(result);
  connect.result.client = client_id_;
  connect.result.version = server_version;
  connect.result.ping = seconds_of(ctx_.settings.ping_interval);
  connect.result.pong = true;
  // The token's `channels`: subscribed by the server, each as the session's
  // join, settled by the broadcaster (which skips unknown namespaces).
  for (const auto& channel : server_side_channels) {
    if (subscriptions_.size() >= ctx_.settings.client_channel_limit ||
        subscriptions_.count(channel) > 0 || channel == core::dashboard_channel) {
      continue;
    }
    core::server_side_subscription subscription;
    subscription.channel = channel;
    subscription.generation = next_generation_++;
    for (const auto& position : request.subs) {
      if (position.channel == channel) {
        subscription.from = core::recovery_point{position.recover, position.offset, position.epoch};
      }
    }
    subscriptions_[channel].generation = subscription.generation;
    connect.subscriptions.push_back(std::move(subscription));
  }
  // The broadcaster replies: it knows the client before the client knows it
  // is connected, so an API call made once the client has its reply finds it.
  note_request();
  connection_.connect(std::move(connect));
  schedule_ping();
  return nullptr;
}

const cp::disconnect_advice* client_session::handle_subscribe(std::uint32_t id,
                                                              const cp::subscribe_request& request,
                                                              std::string& replies) {
  const auto refuse = [&](const cp::client_error& error) -> const cp::disconnect_advice* {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, error);
    return nullptr;
  };
  if (request.type != 0) {
    return refuse(cp::errors::not_available);
  }
  // What concerns this connection alone, first, as Centrifuge does: a
  // channel it holds or asked for (105), then its channel limit (106). The
  // channel's own rules are the broadcaster's (core::channel_policy).
  if (subscriptions_.count(request.channel) > 0) {
    return refuse(cp::errors::already_subscribed);
  }
  if (subscriptions_.size() >= ctx_.settings.client_channel_limit) {
    return refuse(cp::errors::limit_exceeded);
  }
  core::subscription_request join;
  join.id = id;
  join.generation = next_generation_++;
  join.ask.recoverable = request.recoverable;
  join.ask.positioned = request.positioned;
  join.ask.join_leave = request.join_leave;
  join.from = core::recovery_point{request.recover, request.offset, request.epoch};
  join.flag = request.flag;
  subscription entry;
  entry.generation = join.generation;
  if (request.channel == core::dashboard_channel) {
    join.ask.token = stats_channel_token(ctx_, request.token, dashboard_);
  } else if (!request.token.empty()) {
    // Verified here, off the broadcaster's thread; the policy decides what
    // the outcome means (a valid token grants the subscription whatever the
    // namespace's permissions say, as in Centrifugo).
    auto verified = ctx_.tokens.verify_channel(request.token, unix_now());
    if (verified.problem == core::token_problem::expired) {
      join.ask.token = core::channel_token::expired;
    } else if (!verified.ok()) {
      join.ask.token = core::channel_token::invalid;
    } else if (verified.claims.channel != request.channel || verified.claims.user != user_) {
      join.ask.token = core::channel_token::foreign;
    } else {
      join.ask.token = core::channel_token::valid;
      join.chan_info = std::move(verified.claims.info_json);
      entry.expires_at = verified.claims.expires_at;
      set_expiry(entry.expires_at, join.expires, join.ttl);
      if (!join.chan_info.empty()) {
        core::publisher_info with_channel_info = *publisher_;
        with_channel_info.chan_info = join.chan_info;
        entry.publisher =
            std::make_shared<const core::publisher_info>(std::move(with_channel_info));
      }
    }
    connection_log::channel_token_checked(join.ask.token, ctx_.tokens, beast::get_lowest_layer(ws_),
                                          request.channel);
  }
  subscriptions_.emplace(request.channel, std::move(entry));
  // Refused or not, the reply comes from the broadcaster, ahead of the
  // channel's publications.
  note_request();
  connection_.join(request.channel, std::move(join));
  return nullptr;
}

void client_session::query(std::uint32_t id, const std::string& channel,
                           core::channel_query request, std::string& replies) {
  if (queries_in_flight_ >= max_queries_in_flight) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::too_many_requests);
    return;
  }
  ++queries_in_flight_;
  // The broadcaster holds presence and history, and checks the channel's
  // rules against whether the client is subscribed at that point.
  request.id = id;
  note_request();
  connection_.query(channel, std::move(request));
}

const cp::disconnect_advice* client_session::handle_refresh(std::uint32_t id,
                                                            const cp::refresh_request& request,
                                                            std::string& replies) {
  const auto verified = ctx_.tokens.verify_connect(request.token, unix_now());
  connection_log::token_checked("refresh", verified.problem, verified.claims.user == user_,
                                ctx_.tokens, beast::get_lowest_layer(ws_));
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
  auto subscribed = subscriptions_.find(request.channel);
  if (subscribed == subscriptions_.end()) {
    cp::append_separator(replies);
    cp::append_error_reply(replies, id, cp::errors::permission_denied);
    return nullptr;
  }
  const auto verified = ctx_.tokens.verify_channel(request.token, unix_now());
  connection_log::token_checked(
      "sub_refresh", verified.problem,
      verified.claims.channel == request.channel && verified.claims.user == user_, ctx_.tokens,
      beast::get_lowest_layer(ws_), request.channel);
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
  subscribed->second.expires_at = verified.claims.expires_at;
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
  for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
    const auto& expires_at = it->second.expires_at;
    if (!expires_at || now <= *expires_at) {
      ++it;
      continue;
    }
    const std::string channel = it->first;
    it = subscriptions_.erase(it);
    note_request();
    connection_.leave(channel);
    cp::append_separator(pushes);
    cp::append_unsubscribe_push(pushes, channel, cp::unsubscribes::expired);
  }
  if (!pushes.empty()) {
    send_text(std::move(pushes));
  }
  return true;
}

void client_session::on_delivery(actors::delivery&& item) {
  std::visit(
      [this](auto& kind) {
        using kind_type = std::decay_t<decltype(kind)>;
        if constexpr (std::is_same_v<kind_type, actors::channel_pushes>) {
          on_pushes(std::move(kind));
        } else if constexpr (std::is_same_v<kind_type, actors::command_reply>) {
          on_reply(std::move(kind));
        } else if constexpr (std::is_same_v<kind_type, actors::server_unsubscribe>) {
          on_server_unsubscribe(kind);
        } else {
          static_assert(std::is_same_v<kind_type, actors::server_disconnect>);
          on_server_disconnect(std::move(kind));
        }
      },
      item);
}

void client_session::on_pushes(actors::channel_pushes&& pushes) {
  // Pushes of a channel the client left (the broadcaster sent them before
  // it saw the unsubscribe), or holds only as asked for: its reply, which
  // the broadcaster sends before any push, has not come yet, so these
  // belong to an earlier subscription.
  auto it = subscriptions_.find(pushes.frames->channel);
  if (it != subscriptions_.end() && it->second.settled) {
    enqueue(std::move(pushes.frames));
  }
}

void client_session::on_reply(actors::command_reply&& reply) {
  using answering = actors::command_reply::answering;
  if (reply.what == answering::query) {
    // Every query forwarded counted one; its reply frees it.
    assert(queries_in_flight_ > 0 && "a query reply the session did not ask for");
    --queries_in_flight_;
  }
  for (const auto& outcome : reply.subscriptions) {
    auto it = subscriptions_.find(outcome.channel);
    if (it == subscriptions_.end() || it->second.generation != outcome.generation) {
      continue;  // the client left meanwhile; the broadcaster had its leave after the join
    }
    if (outcome.accepted) {
      it->second.settled = true;
    } else {
      subscriptions_.erase(it);
    }
  }
  if (reply.frames) {
    enqueue(std::move(reply.frames));
  }
  if (reply.render) {
    // Encoded here, on this connection's thread, and only for a connection
    // still open that can queue it (enqueue_deferred): the broadcaster
    // handed out shared data, not text.
    enqueue_deferred(reply.render.bytes, reply.render.append);
  }
  note_answered(reply.count, reply.bytes);  // may go on with a paused frame
}

void client_session::on_server_unsubscribe(const actors::server_unsubscribe& unsubscribe) {
  auto it = subscriptions_.find(unsubscribe.channel);
  if (it == subscriptions_.end() || it->second.generation != unsubscribe.generation) {
    return;  // meant for a subscription the client already left
  }
  subscriptions_.erase(it);
  std::string text;
  cp::append_unsubscribe_push(text, unsubscribe.channel,
                              unsubscribe.insufficient_state ? cp::unsubscribes::insufficient_state
                                                             : cp::unsubscribes::server);
  send_text(text);
}

void client_session::on_server_disconnect(actors::server_disconnect disconnect) {
  // The API may name any number; a close frame may carry only these.
  const std::uint32_t code = disconnect.code;
  const bool sendable = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
                        (code >= 3000 && code <= 4999);
  if (!sendable) {
    const auto& advice = cp::disconnects::force_no_reconnect;
    start_close(static_cast<std::uint16_t>(advice.code), advice.reason, false);
    return;
  }
  // After the deliveries before it: they are queued, and go out first.
  start_close(static_cast<std::uint16_t>(code), disconnect.reason, false);
}

void client_session::schedule_ping() {
  // One timer: ping-interval until the ping, then pong-timeout for the pong.
  ping_timer_.expires_after(ctx_.settings.ping_interval);
  ping_timer_.async_wait(beast::bind_front_handler(&client_session::on_ping_timer, shared_self()));
}

void client_session::on_ping_timer(beast::error_code ec) {
  if (ec || !is_open()) {
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
    if (wait_ec || !self->is_open()) {
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
  auto it = subscriptions_.find(channel);
  return it == subscriptions_.end() || !it->second.publisher ? publisher_ : it->second.publisher;
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
