#include "http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "api_endpoint.hpp"
#include "client_session.hpp"
#include "connection_log.hpp"
#include "dashboard.hpp"
#include "herald/core/dashboard.hpp"
#include "herald/core/metrics.hpp"
#include "herald/core/settings.hpp"
#include "herald/core/websocket_frame.hpp"
#include "server_metrics.hpp"
#include "static_files.hpp"
#include "websocket_session.hpp"

namespace herald::net {
namespace {

// Request headers beyond this get 431, as nginx's default large buffers.
constexpr std::uint32_t max_header_bytes = 8 * 1024;
// Bodies of requests to anything but the server API, which take none.
constexpr std::uint64_t max_body_bytes = 64 * 1024;

constexpr std::string_view api_prefix = "/api/";

bool is_api_path(std::string_view path) {
  return path == "/api" || path.substr(0, api_prefix.size()) == api_prefix;
}

std::string render_metrics(const server_context& ctx) {
  return core::render_prometheus(snapshot_metrics(ctx));
}

bool is_get_or_head(const request& req) {
  return req.method() == http::verb::get || req.method() == http::verb::head;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

}  // namespace

http_session::http_session(boost::asio::ip::tcp::socket&& socket, server_context& ctx)
    : stream_(std::move(socket)), ctx_(ctx) {
  ctx_.counters.http_connections.fetch_add(1, std::memory_order_relaxed);
}

http_session::http_session(std::unique_ptr<tls_stream> stream, server_context& ctx)
    : stream_(stream->get_executor()), tls_(std::move(stream)), ctx_(ctx) {
  ctx_.counters.http_connections.fetch_add(1, std::memory_order_relaxed);
}

http_session::~http_session() {
  ctx_.counters.http_connections.fetch_sub(1, std::memory_order_relaxed);
}

void http_session::run() {
  // Counted from the constructor on, this one included. Idle keep-alive
  // connections hold a socket each until their next request or the
  // handshake timeout; past the bound a new one is answered and closed at
  // once, without reading what it sends.
  if (ctx_.counters.http_connections.load(std::memory_order_relaxed) >
      ctx_.settings.max_http_connections) {
    ctx_.counters.count(core::refusal::http_connections);
    connection_log::refused(core::refusal::http_connections, tcp().socket());
    boost::asio::dispatch(tcp().get_executor(), [self = shared_from_this()] {
      if (self->tls_) {
        self->tcp().close();  // no HTTP can be spoken before a handshake
        return;
      }
      self->send(
          make_response(http::status::service_unavailable, 11, false, "too many connections\n"),
          false);
    });
    return;
  }
  if (tls_) {
    boost::asio::dispatch(tcp().get_executor(), [self = shared_from_this()] {
      // A client that stalls mid-handshake, or sends no TLS at all (plain
      // HTTP, garbage), is dropped within handshake-timeout.
      self->tcp().expires_after(self->ctx_.settings.handshake_timeout);
      self->tls_->async_handshake(
          boost::asio::ssl::stream_base::server,
          boost::beast::bind_front_handler(&http_session::on_handshake, self));
    });
    return;
  }
  boost::asio::dispatch(stream_.get_executor(), boost::beast::bind_front_handler(
                                                    &http_session::do_read, shared_from_this()));
}

void http_session::on_handshake(boost::beast::error_code ec) {
  if (ec) {
    ctx_.counters.count(core::refusal::tls_handshake);
    connection_log::tls_handshake_failed(ec, tcp().socket());
    tcp().close();
    return;
  }
  do_read();
}

bool http_session::from_loopback() {
  boost::beast::error_code ec;
  const auto address = tcp().socket().remote_endpoint(ec).address();
  // 127.0.0.1 arrives as ::ffff:127.0.0.1 on a socket bound to "::".
  return !ec && (address.is_loopback() ||
                 (address.is_v6() && address.to_v6().is_v4_mapped() &&
                  boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
                      .is_loopback()));
}

std::string http_session::peer_address() {
  return connection_log::peer_of(tcp().socket());
}

void http_session::do_read() {
  parser_.emplace();
  parser_->header_limit(max_header_bytes);
  // The API's limit while the header is read: Beast checks a Content-Length
  // against the limit in force then. on_header lowers it for other targets.
  parser_->body_limit(ctx_.settings.api_max_body_bytes);
  tcp().expires_after(ctx_.settings.handshake_timeout);
  // The header first: the body limit depends on the target.
  with_stream([&](auto& stream) {
    http::async_read_header(
        stream, buffer_, *parser_,
        boost::beast::bind_front_handler(&http_session::on_header, shared_from_this()));
  });
}

void http_session::on_header(boost::beast::error_code ec, std::size_t bytes) {
  if (ec) {
    on_read(ec, bytes);
    return;
  }
  const std::string_view path = path_of(parser_->get().target());
  const auto& header = parser_->get();
  if (is_api_path(path)) {
    // The method and the key come with the header: a caller who may not
    // call the API gets its answer before any of the body is read.
    if (auto refused = refuse_api_header(header, from_loopback(), ctx_)) {
      ctx_.counters.count(core::refusal::api_key);
      connection_log::api_refused(refused->result_int(), header, tcp().socket());
      send(std::move(*refused), false);
      return;
    }
  } else {
    if (parser_->content_length().value_or(0) > max_body_bytes) {
      on_read(http::error::body_limit, bytes);
      return;
    }
    parser_->body_limit(max_body_bytes);  // a chunked body is checked as it comes
  }
  if (!parser_->is_done() && boost::beast::iequals(header[http::field::expect], "100-continue")) {
    // curl asks before sending a body over 1 KiB and would otherwise wait
    // a second for the answer.
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                      header.version());
    with_stream([&](auto& stream) {
      http::async_write(
          stream, *interim,
          [self = shared_from_this(), interim](boost::beast::error_code write_ec, std::size_t) {
            if (write_ec) {
              self->do_close();
              return;
            }
            self->read_body();
          });
    });
    return;
  }
  read_body();
}

void http_session::read_body() {
  with_stream([&](auto& stream) {
    http::async_read(stream, buffer_, *parser_,
                     boost::beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  });
}

void http_session::on_read(boost::beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream || ec == boost::beast::error::timeout ||
      ec == boost::asio::error::connection_reset || ec == boost::asio::error::operation_aborted) {
    do_close();
    return;
  }
  if (ec == http::error::header_limit) {
    send(make_response(http::status::request_header_fields_too_large, 11, false,
                       "request header fields too large\n"),
         false);
    return;
  }
  if (ec == http::error::body_limit) {
    send(make_response(http::status::payload_too_large, 11, false, "payload too large\n"), false);
    return;
  }
  if (ec) {
    send(make_response(http::status::bad_request, 11, false, "bad request\n"), false);
    return;
  }
  route(parser_->release());
}

void http_session::route(request&& req) {
  const std::string_view path = path_of(req.target());
  const bool draining = ctx_.draining.load();
  if (draining) {
    req.keep_alive(false);
  }
  if (boost::beast::websocket::is_upgrade(req)) {
    if (path == "/ws" || path == "/connection/websocket") {
      upgrade(std::move(req), path == "/connection/websocket");
      return;
    }
    send(make_response(http::status::not_found, req.version(), false, "not found\n"), false);
    return;
  }
  if (path == "/api") {
    serve_api_request(std::move(req), std::nullopt);  // the legacy form
    return;
  }
  if (path.substr(0, api_prefix.size()) == api_prefix) {
    serve_api_request(std::move(req), path.substr(api_prefix.size()));
    return;
  }
  const bool keep_alive = req.keep_alive();
  if (path == core::dashboard_token_path) {
    send(serve_dashboard_token(req, ctx_, peer_address()), keep_alive);
    return;
  }
  const bool websocket_only = path == "/ws" || path == "/connection/websocket";
  const bool endpoint = websocket_only || path == "/health" || path == "/metrics";
  if (endpoint && !is_get_or_head(req)) {
    send(method_not_allowed(req, "GET, HEAD"), keep_alive);
    return;
  }
  if (websocket_only) {
    auto res =
        make_response(http::status::upgrade_required, req, "this endpoint speaks WebSocket only\n");
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, keep_alive ? "Upgrade, keep-alive" : "Upgrade, close");
    res.set(http::field::sec_websocket_version, "13");
    send(std::move(res), keep_alive);
    return;
  }
  if (path == "/health") {
    auto res = make_response(draining ? http::status::service_unavailable : http::status::ok, req,
                             draining ? "{\"draining\":true}" : "{}", "application/json");
    send(std::move(res), keep_alive);
    return;
  }
  if (path == "/metrics") {
    send(make_response(http::status::ok, req, render_metrics(ctx_),
                       "text/plain; version=0.0.4; charset=utf-8"),
         keep_alive);
    return;
  }
  send(serve_static_file(req, ctx_.static_root), keep_alive);
}

void http_session::serve_api_request(request&& req, std::optional<std::string_view> method) {
  const bool keep_alive = req.keep_alive();
  // The reply may come from the broadcaster's thread: hop back to ours.
  serve_api(req, method, ctx_,
            [self = shared_from_this(), keep_alive](string_response response) mutable {
              // Moved into the posted handler: the session is never released
              // (and destroyed) on the broadcaster's thread.
              auto executor = self->tcp().get_executor();
              boost::asio::post(executor, [self = std::move(self), keep_alive,
                                           response = std::move(response)]() mutable {
                self->send(std::move(response), keep_alive);
              });
            });
}

void http_session::upgrade(request&& req, bool client_protocol) {
  const auto refuse = [&](core::refusal why, http::status status, std::string_view body) {
    ctx_.counters.count(why);
    connection_log::refused(why, tcp().socket(), req[http::field::origin]);
    send(make_response(status, req.version(), false, body), false);
  };
  if (!core::is_valid_websocket_key(req[http::field::sec_websocket_key])) {
    refuse(core::refusal::bad_websocket_key, http::status::bad_request, "bad Sec-WebSocket-Key\n");
    return;
  }
  if (ctx_.draining.load()) {
    refuse(core::refusal::draining, http::status::service_unavailable, "shutting down\n");
    return;
  }
  if (auto origin = req.find(http::field::origin); origin != req.end()) {
    if (!core::origin_allowed(ctx_.settings.allowed_origins, origin->value())) {
      refuse(core::refusal::origin, http::status::forbidden, "origin not allowed\n");
      return;
    }
  }
  // The address's own limits first: a client over them takes nothing from
  // the server-wide count.
  std::string limited_address;
  if (ctx_.addresses.enabled()) {
    limited_address = peer_address();
    switch (ctx_.addresses.admit(limited_address)) {
      case core::address_limits::verdict::admitted:
        break;
      case core::address_limits::verdict::too_many:
        refuse(core::refusal::connections_per_ip, http::status::service_unavailable,
               "too many connections from this address\n");
        return;
      case core::address_limits::verdict::too_fast:
        refuse(core::refusal::rate_per_ip, http::status::too_many_requests,
               "too many connections from this address per second\n");
        return;
    }
  }
  if (!ctx_.sessions.try_reserve(ctx_.settings.max_connections)) {
    if (!limited_address.empty()) {
      ctx_.addresses.release(limited_address);
    }
    refuse(core::refusal::connections, http::status::service_unavailable, "too many connections\n");
    return;
  }
  // The WebSocket session takes the connection over, TLS state and all;
  // from now on it keeps its own time (Beast's timeouts).
  tcp().expires_never();
  accepted_stream stream =
      tls_ ? accepted_stream{std::move(tls_)} : accepted_stream{stream_.release_socket()};
  if (client_protocol) {
    auto session = std::make_shared<client_session>(std::move(stream), ctx_);
    session->hold_address(std::move(limited_address));
    session->run(std::move(req));
  } else {
    auto session = std::make_shared<websocket_session>(std::move(stream), ctx_);
    session->hold_address(std::move(limited_address));
    session->run(std::move(req));
  }
}

void http_session::send(http::message_generator&& response, bool keep_alive) {
  tcp().expires_after(ctx_.settings.handshake_timeout);
  with_stream([&](auto& stream) {
    boost::beast::async_write(
        stream, std::move(response),
        boost::beast::bind_front_handler(&http_session::on_write, shared_from_this(), keep_alive));
  });
}

void http_session::on_write(bool keep_alive, boost::beast::error_code ec, std::size_t) {
  if (ec || !keep_alive) {
    do_close();
    return;
  }
  do_read();
}

void http_session::do_close() {
  // Lingering close: stop sending, then drain what the client still sends
  // for a moment. Closing with unread input would make the kernel answer
  // with a reset that can destroy the error response in flight (431, 400).
  if (tls_) {
    // TLS's own closing: close_notify, then the client's, within the same
    // two seconds.
    tcp().expires_after(std::chrono::seconds{2});
    tls_->async_shutdown(
        [self = shared_from_this()](boost::beast::error_code) { self->tcp().close(); });
    return;
  }
  boost::beast::error_code ignored;
  tcp().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  tcp().expires_after(std::chrono::seconds{2});
  drain_input();
}

void http_session::drain_input() {
  buffer_.clear();
  tcp().async_read_some(buffer_.prepare(4096),
                        [self = shared_from_this()](boost::beast::error_code ec, std::size_t) {
                          if (ec) {
                            self->tcp().close();  // end of stream, reset or the deadline
                            return;
                          }
                          self->drain_input();
                        });
}

}  // namespace herald::net
