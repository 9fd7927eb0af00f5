#include "websocket_transport.hpp"

#include <cassert>

#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket.hpp>

#include "connection_log.hpp"
#include "herald/core/metrics.hpp"
#include "herald/core/permessage_deflate.hpp"
#include "herald/core/websocket_frame.hpp"
#include "write_scheduler.hpp"

namespace herald::net {
namespace {

// A read buffer that grew past this for a large message is freed afterwards
// (shrink_to_fit of an empty buffer), so idle connections stay small; a
// smaller one is kept for the client's next message.
constexpr std::size_t idle_buffer_capacity = 16 * 1024;

// At most `limit` bytes of `text`, not cutting a UTF-8 character: a close
// reason must be valid UTF-8, and one that is not makes the client fail the
// connection (1006) instead of reporting our code.
std::string_view utf8_prefix(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    return text;
  }
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;  // text[end] continues a character: cut before that character
  }
  return text.substr(0, end);
}

// The Sec-WebSocket-Extensions answer when the upgrade offers
// permessage-deflate in a form Herald accepts.
std::optional<std::string_view> accept_deflate(const request& upgrade) {
  const auto [first, last] = upgrade.equal_range(http::field::sec_websocket_extensions);
  if (first != last && std::next(first) == last) {
    return core::accept_deflate_offer(first->value());  // one line, as clients send it
  }
  std::string offers;  // every Sec-WebSocket-Extensions line, as one list
  for (auto line = first; line != last; ++line) {
    if (!offers.empty()) {
      offers += ',';
    }
    offers.append(line->value());
  }
  if (offers.empty()) {
    return std::nullopt;
  }
  return core::accept_deflate_offer(offers);
}

}  // namespace

websocket_transport::websocket_transport(accepted_stream&& stream, server_context& ctx,
                                         core::protocol protocol)
    // The scheduler of the thread that made the session, which runs all
    // its handlers.
    : scheduled_sink(write_scheduler::of_this_thread()),
      ws_(std::move(stream), ctx.settings.client_queue_max_bytes, ctx.counters.bytes_out),
      ctx_(ctx),
      figures_(ctx.counters.by_protocol[core::index_of(protocol)]),
      protocol_(protocol),
      close_deadline_(ws_.get_executor()) {}

websocket_transport::~websocket_transport() {
  if (phase_ != phase::finished) {
    release();
  }
}

void websocket_transport::enter(phase next) {
  // The transitions listed with `phase` in the header, and no others: a
  // finished session never opens again, a closing one never reopens.
  const bool allowed =
      (phase_ == phase::handshaking && (next == phase::open || next == phase::finished)) ||
      (phase_ == phase::open && (next == phase::closing || next == phase::finished)) ||
      (phase_ == phase::closing && next == phase::finished);
  assert(allowed && "websocket_transport: a phase change the state machine does not have");
  static_cast<void>(allowed);
  phase_ = next;
}

void websocket_transport::compression_failed(const std::shared_ptr<void>& owner,
                                             inflating_input::failure failure) {
  // The socket's owner is the session (see accept: set_owner).
  auto& self = *static_cast<websocket_transport*>(owner.get());
  self.start_close(failure.code, failure.reason, false);
}

void websocket_transport::hold_address(std::string address) {
  if (!address.empty()) {
    held_address_ = std::make_unique<const std::string>(std::move(address));
  }
}

void websocket_transport::accept(request upgrade, websocket::stream_base::timeout timeouts,
                                 actors::connection_handle connection) {
  ctx_.sessions.add(shared_from_this());
  ws_.next_layer().set_owner(weak_from_this());
  // Beast's own timer takes over from the HTTP read deadline (which went
  // with the HTTP session's tcp_stream).
  ws_.set_option(timeouts);
  // The answer is one of two static strings: the decorator keeps a view.
  const std::optional<std::string_view> deflate_answer =
      ctx_.settings.compression ? accept_deflate(upgrade) : std::nullopt;
  deflates_ = deflate_answer.has_value();
  ws_.set_option(websocket::stream_base::decorator(
      [answer = deflate_answer.value_or(std::string_view{})](websocket::response_type& res) {
        res.set(http::field::server, server_name);
        if (!answer.empty()) {
          res.set(http::field::sec_websocket_extensions, answer);
        }
      }));
  if (deflates_) {
    ws_.next_layer().inflate_incoming(ctx_.inflating);
  }
  ws_.read_message_max(ctx_.settings.max_message_bytes);
  ws_.auto_fragment(false);
  ws_.text(true);
  connection_ = std::move(connection);
  peer_for_log_ = connection_log::peer_for_debug_lines(beast::get_lowest_layer(ws_));
  ws_.async_accept(upgrade,
                   beast::bind_front_handler(&websocket_transport::on_accept, shared_from_this()));
}

void websocket_transport::on_accept(beast::error_code ec) {
  if (ec || phase_ != phase::handshaking) {
    // The handshake failed or timed out, or the connection was cut while
    // in it (then it has finished already).
    if (ec && phase_ == phase::handshaking) {
      connection_log::handshake_failed(protocol_, ec, beast::get_lowest_layer(ws_));
    }
    finish();
    return;
  }
  figures_.accepted.fetch_add(1, std::memory_order_relaxed);
  figures_.connections.fetch_add(1, std::memory_order_relaxed);
  if (deflates_) {
    figures_.compressed.fetch_add(1, std::memory_order_relaxed);
  }
  enter(phase::open);
  connection_log::connected(protocol_, peer_for_log_.get());
  ws_.next_layer().start();
  ws_.next_layer().flush();
  if (ctx_.draining.load()) {
    begin_shutdown();
  }
  on_open();
  await_message();
}

void websocket_transport::await_message() {
  // A read of one byte: Beast answers pings, runs its keep-alive and idle
  // timers and handles a close while it waits, and completes once a data
  // frame begins. Until then the connection holds no message buffer, and
  // most push clients never send one. (Not zero bytes: Beast's UTF-8
  // checker dereferences the empty buffer.)
  ws_.async_read_some(
      boost::asio::buffer(&first_byte_, 1),
      beast::bind_front_handler(&websocket_transport::on_message_start, shared_from_this()));
}

void websocket_transport::on_message_start(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    read_failed(ec);
    return;
  }
  scheduler_.note_read();
  if (bytes > 0) {
    buffer_.commit(
        boost::asio::buffer_copy(buffer_.prepare(bytes), boost::asio::buffer(&first_byte_, bytes)));
  }
  if (ws_.is_message_done()) {
    on_read(ec, bytes);  // a message of at most one byte, read whole
    return;
  }
  ws_.async_read(buffer_,
                 beast::bind_front_handler(&websocket_transport::on_read, shared_from_this()));
}

void websocket_transport::read_failed(beast::error_code ec) {
  if (phase_ == phase::open) {
    if (ec == websocket::error::closed) {
      close_code_ = ws_.reason().code;
    } else if (ec == websocket::error::message_too_big) {
      close_code_ = static_cast<std::uint16_t>(websocket::close_code::too_big);
    } else if (ec == websocket::error::bad_frame_payload) {
      close_code_ = static_cast<std::uint16_t>(websocket::close_code::bad_payload);
    }
  }
  // Closed by the peer, by us, by a timeout, or failed by Beast, which has
  // then already sent the close code the failure calls for (1009 for an
  // oversized message, 1007 for invalid UTF-8, 1002 for protocol errors).
  finish();
}

void websocket_transport::on_read(beast::error_code ec,
                                  std::size_t /*bytes: the whole message is in buffer_*/) {
  if (ec) {
    read_failed(ec);
    return;
  }
  scheduler_.note_read();
  ctx_.counters.bytes_in.add(buffer_.size());
  reader_ = reader::handling;
  if (phase_ == phase::open) {
    const auto data = buffer_.cdata();
    on_message(std::string_view{static_cast<const char*>(data.data()), data.size()},
               ws_.got_binary());
  }
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > idle_buffer_capacity) {
    buffer_.shrink_to_fit();
  }
  if (reader_ == reader::paused) {
    return;  // resume_reading() reads on
  }
  reader_ = reader::reading;
  await_message();
}

namespace {

// A connection's own bounds on its requests at the broadcaster (see
// note_request in the header).
constexpr std::uint32_t max_requests_in_flight = 64;
constexpr std::uint64_t min_publication_bytes_in_flight = 1 << 20;
constexpr std::chrono::milliseconds backlog_recheck{10};

}  // namespace

void websocket_transport::note_request(std::uint64_t publication_bytes) {
  ++requests_in_flight_;
  publication_bytes_in_flight_ += publication_bytes;
  ctx_.publish_backlog_bytes.fetch_add(publication_bytes, std::memory_order_relaxed);
}

void websocket_transport::note_answered(std::uint32_t count, std::uint64_t publication_bytes) {
  // The broadcaster answers each request once, with the bytes the session
  // counted for it.
  assert(count <= requests_in_flight_ && publication_bytes <= publication_bytes_in_flight_ &&
         "a reply to more than the connection asked");
  requests_in_flight_ -= std::min(count, requests_in_flight_);
  publication_bytes = std::min(publication_bytes, publication_bytes_in_flight_);
  publication_bytes_in_flight_ -= publication_bytes;
  ctx_.publish_backlog_bytes.fetch_sub(publication_bytes, std::memory_order_relaxed);
  if (reading_paused()) {
    if (!at_request_bound()) {
      on_requests_drained();
    } else {
      wait_for_drain();
    }
  }
}

bool websocket_transport::at_own_bound() const {
  const std::uint64_t own_bytes =
      std::max<std::uint64_t>(min_publication_bytes_in_flight, ctx_.settings.max_message_bytes);
  return requests_in_flight_ >= max_requests_in_flight || publication_bytes_in_flight_ >= own_bytes;
}

void websocket_transport::wait_for_drain() {
  // At its own bound, the connection's next reply wakes it; held back by
  // the server-wide backlog alone, it looks again shortly, since other
  // connections' replies do not reach it.
  if (!at_own_bound() && !backlog_waiting_) {
    check_backlog_later();
  }
}

bool websocket_transport::at_request_bound() const {
  return at_own_bound() || ctx_.publish_backlog_bytes.load(std::memory_order_relaxed) >=
                               ctx_.settings.publish_backlog_bytes;
}

void websocket_transport::check_backlog_later() {
  if (!backlog_timer_) {
    backlog_timer_ = std::make_unique<boost::asio::steady_timer>(ws_.get_executor());
  }
  backlog_waiting_ = true;
  backlog_timer_->expires_after(backlog_recheck);
  backlog_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    self->backlog_waiting_ = false;
    if (ec || !self->reading_paused() || self->phase_ != phase::open) {
      return;
    }
    if (self->at_request_bound()) {
      self->wait_for_drain();
      return;
    }
    self->on_requests_drained();
  });
}

void websocket_transport::pause_reading() {
  // Only a message's handler pauses: then no read is pending.
  assert(reader_ == reader::handling && "pause_reading outside on_message");
  reader_ = reader::paused;
  // The session is owned by its pending handlers, and a paused one has no
  // read pending: it holds itself until it reads again (the replies that
  // resume it reach it through the connection actor's weak reference).
  paused_self_ = shared_from_this();
  wait_for_drain();
}

void websocket_transport::resume_reading() {
  if (reader_ != reader::paused || phase_ == phase::finished) {
    return;
  }
  reader_ = reader::reading;
  const auto keep_alive_until_read = std::move(paused_self_);  // the read holds it from here
  await_message();
}

void websocket_transport::send_text(std::string_view text) {
  enqueue(core::make_text_batch(text));
}

void websocket_transport::receive(actors::delivery&& item) {
  if (phase_ == phase::handshaking || phase_ == phase::open) {
    on_delivery(std::move(item));
  }
}

session_ref websocket_transport::scheduled_self() {
  return shared_from_this();
}

void websocket_transport::enqueue(core::frame_batch_ptr batch) {
  // Once closing (shutdown included), only what was queued before is
  // flushed: a busy channel must not hold off the close until
  // shutdown-timeout.
  if (phase_ != phase::handshaking && phase_ != phase::open) {
    return;
  }
  if (deflates_) {
    batch = core::deflated(
        batch, core::compression_options{ctx_.settings.compression_min_bytes,
                                         static_cast<int>(ctx_.settings.compression_level)});
  }
  auto& socket = ws_.next_layer();
  if (!socket.queue().push(std::move(batch))) {
    close_as_slow();
    return;
  }
  // Frames can arrive while the 101 is still being written (a /ws session
  // subscribes before it); they wait for on_accept, which flushes them.
  if (phase_ == phase::open) {
    scheduler_.schedule_write(*this);
  }
}

void websocket_transport::enqueue_deferred(std::size_t at_least,
                                           const std::function<void(std::string&)>& append) {
  if (phase_ != phase::handshaking && phase_ != phase::open) {
    return;
  }
  if (!ws_.next_layer().queue().would_take(at_least)) {
    close_as_slow();
    return;
  }
  auto batch = std::make_shared<core::frame_batch>();
  batch->append(core::make_frame(core::encode_text_frame_of(at_least, append)));
  enqueue(std::move(batch));
}

void websocket_transport::close_as_slow() {
  figures_.slow_disconnects.fetch_add(1, std::memory_order_relaxed);
  connection_log::slow_client(protocol_, beast::get_lowest_layer(ws_),
                              ctx_.settings.client_queue_max_bytes);
  const close_advice advice = slow_close();
  start_close(advice.code, advice.reason, false);
}

void websocket_transport::write_pending() {
  ws_.next_layer().flush();
}

void websocket_transport::prefetch_for_write(int step) noexcept {
  switch (step) {
    case 0:
      prefetch_lines(this, sizeof *this);
      break;
    case 1:
      ws_.next_layer().prefetch_layer();
      break;
    default:
      ws_.next_layer().prefetch_queue();
      break;
  }
}

void websocket_transport::begin_shutdown() {
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ != phase::open) {
      return;  // closing already; or still in the handshake: on_accept checks `draining`
    }
    // The close frame leaves after everything already queued.
    self->ws_.next_layer().drain_before_close();
    const close_advice advice = self->shutdown_close();
    self->start_close(advice.code, advice.reason, true);
  });
}

void websocket_transport::abort() {
  boost::asio::post(ws_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).close(ignored);
    self->resume_reading();  // a paused session learns it is gone from the read
  });
}

void websocket_transport::start_close(std::uint16_t code, std::string_view reason,
                                      bool keep_queued) {
  if (phase_ == phase::handshaking) {
    // No close frame may precede the 101: drop the connection instead.
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).close(ignored);
    finish();
    return;
  }
  if (phase_ != phase::open) {
    return;  // closing or finished already
  }
  enter(phase::closing);
  close_code_ = code;
  // The closing handshake ends when the client's close frame is read:
  // whatever held reading back, it reads to the end now.
  resume_reading();
  if (!keep_queued) {
    // An error close: what was queued before it goes out as far as the
    // socket takes it now (it would have, had it not waited for this
    // thread's write pass); what the socket does not take is never sent.
    ws_.next_layer().flush();
    ws_.next_layer().queue().drop_pending();
  }
  // A client that does not read may never let the close frame out; cut the
  // socket if the closing handshake has not finished in time.
  close_deadline_.expires_after(ctx_.settings.handshake_timeout);
  close_deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec && self->phase_ != phase::finished) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).close(ignored);
    }
  });
  websocket::close_reason close{static_cast<websocket::close_code>(code),
                                utf8_prefix(reason, websocket::reason_string::static_capacity)};
  ws_.async_close(close, [self = shared_from_this()](beast::error_code) {});
}

void websocket_transport::finish() {
  if (phase_ == phase::finished) {
    return;
  }
  on_finish();
  release();
}

void websocket_transport::release() {
  const bool counted = phase_ == phase::open || phase_ == phase::closing;  // after the 101
  enter(phase::finished);  // late deliveries are dropped, nothing new is written
  if (counted) {
    figures_.connections.fetch_sub(1, std::memory_order_relaxed);
    if (deflates_) {
      figures_.compressed.fetch_sub(1, std::memory_order_relaxed);
    }
    ctx_.counters.disconnects[core::close_code_slot(close_code_)].fetch_add(
        1, std::memory_order_relaxed);
    connection_log::disconnected(protocol_, close_code_, peer_for_log_.get());
  }
  close_deadline_.cancel();
  if (backlog_timer_) {
    backlog_timer_->cancel();
  }
  paused_self_.reset();
  // Publications the broadcaster never acknowledged to this connection
  // leave the server's backlog with it.
  ctx_.publish_backlog_bytes.fetch_sub(publication_bytes_in_flight_, std::memory_order_relaxed);
  publication_bytes_in_flight_ = 0;
  connection_.close();
  ctx_.sessions.remove(this);
  if (held_address_) {
    ctx_.addresses.release(*held_address_);
    held_address_.reset();
  }
}

}  // namespace herald::net
