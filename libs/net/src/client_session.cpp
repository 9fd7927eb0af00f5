#include "client_session.hpp"

#include <chrono>
#include <random>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

#include "herald/core/websocket_frame.hpp"

namespace herald::net {
namespace {

namespace cp = core::client_protocol;

constexpr std::size_t idle_buffer_capacity = 16 * 1024;

// Channels one connection may subscribe to (Centrifugo's default
// client_channel_limit); more get error 106, so one socket cannot grow the
// broadcaster's registry without bound.
constexpr std::size_t max_channels_per_connection = 128;

// Centrifugo's subscribe permission: never a private channel (channel
// tokens are not accepted yet); a user-limited channel ("dialog#42,43")
// admits the users it lists where the namespace allows such channels; any
// other channel needs allow-subscribe-for-client, and for a client without
// a user also allow-subscribe-for-anonymous.
bool may_subscribe(const core::channel_namespaces& namespaces, const core::channel_options& options,
                   std::string_view channel, std::string_view user, bool anonymous) {
  if (namespaces.is_private(channel)) {
    return false;
  }
  if (options.allow_user_limited_channels && namespaces.is_user_limited(channel)) {
    return namespaces.user_allowed(channel, user);
  }
  return options.allow_subscribe_for_client && (!anonymous || options.allow_subscribe_for_anonymous);
}
constexpr std::string_view server_version = "herald 0.1.0";

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
  return static_cast<std::uint32_t>(
      std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(duration).count()));
}

// `expires`/`ttl` of connect and refresh replies for a token's `exp`.
void set_expiry(const std::optional<std::int64_t>& expires_at, bool& expires, std::uint32_t& ttl) {
  if (expires_at) {
    expires = true;
    ttl = static_cast<std::uint32_t>(std::max<std::int64_t>(0, *expires_at - unix_now()));
  }
}

}  // namespace

client_session::client_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx)
    : ws_(std::move(socket), ctx.settings.client_queue_max_bytes, ctx.counters.bytes_out),
      ctx_(ctx),
      close_deadline_(ws_.get_executor()),
      ping_timer_(ws_.get_executor()) {}

client_session::~client_session() {
  finish();
}

void client_session::run(request upgrade) {
  ctx_.sessions.add(shared_from_this());
  ws_.next_layer().set_owner(weak_from_this());
  const auto& settings = ctx_.settings;
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = settings.handshake_timeout;
  // The protocol has its own pings (`{}`), announced in the connect reply.
  timeouts.idle_timeout = websocket::stream_base::none();
  timeouts.keep_alive_pings = false;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, server_name); }));
  ws_.read_message_max(settings.max_message_bytes);
  ws_.auto_fragment(false);
  ws_.text(true);
  connection_ = ctx_.hub.connect_client(weak_from_this());
  ws_.async_accept(upgrade,
                   beast::bind_front_handler(&client_session::on_accept, shared_from_this()));
}

void client_session::on_accept(beast::error_code ec) {
  if (ec) {
    return;  // the handshake failed or timed out; the destructor cleans up
  }
  ctx_.counters.accepted_websocket.fetch_add(1, std::memory_order_relaxed);
  accepted_ = true;
  ws_.next_layer().start();
  ws_.next_layer().flush();
  if (ctx_.draining.load()) {
    begin_shutdown();
  }
  // A client that never sends connect is cut after the handshake timeout.
  ping_timer_.expires_after(ctx_.settings.handshake_timeout);
  ping_timer_.async_wait(
      beast::bind_front_handler(&client_session::on_ping_timer, shared_from_this()));
  await_message();
}

void client_session::await_message() {
  // As websocket_session: a one-byte read keeps Beast's control-frame
  // handling alive without holding a message buffer while idle.
  ws_.async_read_some(
      boost::asio::buffer(&first_byte_, 1),
      beast::bind_front_handler(&client_session::on_message_start, shared_from_this()));
}

void client_session::on_message_start(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    read_failed(ec);
    return;
  }
  if (bytes > 0) {
    buffer_.commit(boost::asio::buffer_copy(buffer_.prepare(bytes),
                                            boost::asio::buffer(&first_byte_, bytes)));
  }
  if (ws_.is_message_done()) {
    on_read(ec, bytes);
    return;
  }
  ws_.async_read(buffer_, beast::bind_front_handler(&client_session::on_read, shared_from_this()));
}

void client_session::read_failed(beast::error_code ec) {
  if (!closing_) {
    if (ec == websocket::error::closed) {
      close_code_ = ws_.reason().code;
    } else if (ec == websocket::error::message_too_big) {
      close_code_ = static_cast<std::uint16_t>(websocket::close_code::too_big);
    } else if (ec == websocket::error::bad_frame_payload) {
      close_code_ = static_cast<std::uint16_t>(websocket::close_code::bad_payload);
    }
  }
  finish();
}

void client_session::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    read_failed(ec);
    return;
  }
  ctx_.counters.bytes_in.fetch_add(buffer_.size(), std::memory_order_relaxed);
  if (!closing_) {
    if (ws_.got_binary()) {
      disconnect(cp::disconnects::bad_request);  // this endpoint speaks JSON
    } else {
      const auto data = buffer_.cdata();
      handle_frame(std::string_view{static_cast<const char*>(data.data()), data.size()});
    }
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > idle_buffer_capacity) {
    buffer_.shrink_to_fit();
  }
  await_message();
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
    const core::channel_options* options = namespaces.options_for(subscribe->channel);
    const bool anonymous = user_.empty();
    if (subscribe->type != 0) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::not_available);
    } else if (options == nullptr) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::unknown_channel);
    } else if (!may_subscribe(namespaces, *options, subscribe->channel, user_, anonymous)) {
      // Channel tokens, which would let a client past these, are not
      // accepted yet.
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::permission_denied);
    } else if (channels_.size() >= max_channels_per_connection &&
               channels_.count(subscribe->channel) == 0) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::limit_exceeded);
    } else if (!channels_.insert(subscribe->channel).second) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::already_subscribed);
    } else {
      // The reply comes from the broadcaster, ahead of the publications.
      core::join_request join{id, subscribe->recover, subscribe->offset, subscribe->epoch,
                              subscribe->recoverable};
      connection_.join(subscribe->channel, std::move(join));
    }
    return nullptr;
  }
  if (const auto* unsubscribe = std::get_if<cp::unsubscribe_request>(&command.body)) {
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
    const bool subscribed = channels_.count(publish->channel) > 0;
    if (options == nullptr) {
      cp::append_error_reply(replies, id, cp::errors::unknown_channel);
    } else if (!((!user_.empty() || options->allow_publish_for_anonymous) &&
                 (options->allow_publish_for_client ||
                  (subscribed && options->allow_publish_for_subscriber)))) {
      // Centrifugo's rule: the anonymous option only lets the other two
      // apply to clients without a user.
      cp::append_error_reply(replies, id, cp::errors::permission_denied);
    } else {
      connection_.publish(publish->channel, core::make_publication(publish->data));
      cp::append_publish_reply(replies, id);
    }
    return nullptr;
  }
  if (const auto* refresh = std::get_if<cp::refresh_request>(&command.body)) {
    return handle_refresh(id, *refresh, replies);
  }
  if (std::holds_alternative<cp::send_request>(command.body)) {
    return nullptr;  // accepted; without a backend nothing handles it (SPEC 2.2)
  }
  // presence, presence_stats and history are not served yet (108, what
  // Centrifugo answers while a channel's options leave them off); rpc, ping
  // and sub_refresh have no backend here.
  cp::append_separator(replies);
  cp::append_error_reply(replies, id, cp::errors::not_available);
  return nullptr;
}

const cp::disconnect_advice* client_session::handle_connect(std::uint32_t id,
                                                           const cp::connect_request& request,
                                                           std::string& replies) {
  cp::connect_result result;
  if (request.token.empty()) {
    if (!ctx_.settings.allow_anonymous) {
      return &cp::disconnects::invalid_token;
    }
  } else {
    const auto verified = ctx_.tokens.verify_connect(request.token, unix_now());
    if (verified.problem == core::token_problem::expired) {
      cp::append_separator(replies);
      cp::append_error_reply(replies, id, cp::errors::token_expired);
      return nullptr;
    }
    if (!verified.ok()) {
      return &cp::disconnects::invalid_token;
    }
    user_ = verified.claims.user;
    set_expiry(verified.claims.expires_at, result.expires, result.ttl);
  }
  connected_ = true;
  client_id_ = make_client_id();
  result.client = client_id_;
  result.version = server_version;
  result.ping = seconds_of(ctx_.settings.ping_interval);
  result.pong = true;
  cp::append_separator(replies);
  cp::append_connect_reply(replies, id, result);
  schedule_ping();
  return nullptr;
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
  cp::refresh_result result;
  result.client = client_id_;
  result.version = server_version;
  set_expiry(verified.claims.expires_at, result.expires, result.ttl);
  cp::append_separator(replies);
  cp::append_refresh_reply(replies, id, result);
  return nullptr;
}

void client_session::send_text(std::string text) {
  auto batch = std::make_shared<core::frame_batch>();
  batch->append(core::make_frame(core::encode_text_frame(text)));
  enqueue(std::move(batch));
}

void client_session::deliver(core::frame_batch_ptr batch) {
  boost::asio::post(ws_.get_executor(),
                    [self = shared_from_this(), batch = std::move(batch)]() mutable {
                      self->enqueue(std::move(batch));
                    });
}

void client_session::enqueue(core::frame_batch_ptr batch) {
  if (closing_ || shutting_down_) {
    return;
  }
  auto& socket = ws_.next_layer();
  if (!socket.queue().push(std::move(batch))) {
    ctx_.counters.slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    disconnect(cp::disconnects::slow);
    return;
  }
  if (accepted_) {
    socket.flush();
  }
}

void client_session::schedule_ping() {
  // One timer: ping-interval until the ping, then pong-timeout for the pong.
  ping_timer_.expires_after(ctx_.settings.ping_interval);
  ping_timer_.async_wait(
      beast::bind_front_handler(&client_session::on_ping_timer, shared_from_this()));
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
  awaiting_pong_ = true;
  send_text(std::string{cp::ping_message});
  // The pong is checked pong-timeout after the ping, and the next ping goes
  // out ping-interval after this one, as announced (check_settings keeps
  // pong-timeout below ping-interval).
  const auto pong_timeout = ctx_.settings.pong_timeout;
  const auto rest = ctx_.settings.ping_interval - pong_timeout;
  ping_timer_.expires_after(pong_timeout);
  ping_timer_.async_wait([self = shared_from_this(), rest](beast::error_code wait_ec) {
    if (wait_ec || self->closing_ || self->finished_) {
      return;
    }
    if (self->awaiting_pong_) {
      self->disconnect(cp::disconnects::no_pong);
      return;
    }
    self->ping_timer_.expires_after(rest);
    self->ping_timer_.async_wait(
        beast::bind_front_handler(&client_session::on_ping_timer, self));
  });
}

void client_session::disconnect(const cp::disconnect_advice& advice) {
  start_close(static_cast<std::uint16_t>(advice.code), advice.reason, false);
}

void client_session::begin_shutdown() {
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    self->shutting_down_ = true;
    if (!self->accepted_ || self->finished_ || self->closing_) {
      return;  // still in the handshake: on_accept checks `draining`
    }
    self->ws_.next_layer().drain_before_close();
    const auto& advice = cp::disconnects::shutdown;
    self->start_close(static_cast<std::uint16_t>(advice.code), advice.reason, true);
  });
}

void client_session::abort() {
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).close(ignored);
  });
}

void client_session::start_close(std::uint16_t code, std::string_view reason, bool keep_queued) {
  if (closing_ || finished_) {
    return;
  }
  closing_ = true;
  close_code_ = code;
  ping_timer_.cancel();
  if (!keep_queued) {
    ws_.next_layer().queue().drop_pending();
  }
  if (!accepted_) {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    return;
  }
  close_deadline_.expires_after(ctx_.settings.handshake_timeout);
  close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && !self->finished_) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).close(ignored);
    }
  });
  websocket::close_reason close{static_cast<websocket::close_code>(code),
                                reason.substr(0, websocket::reason_string::static_capacity)};
  ws_.async_close(close, [self = shared_from_this()](beast::error_code) {});
}

void client_session::finish() {
  if (finished_) {
    return;
  }
  finished_ = true;
  closing_ = true;
  if (accepted_) {
    ctx_.counters.disconnects[core::close_code_slot(close_code_)].fetch_add(
        1, std::memory_order_relaxed);
  }
  close_deadline_.cancel();
  ping_timer_.cancel();
  connection_.close();
  ctx_.sessions.remove(this);
}

}  // namespace herald::net
