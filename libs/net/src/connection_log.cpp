#include "connection_log.hpp"

#include <array>

#include <boost/beast/http/field.hpp>

#include "herald/core/api_access.hpp"
#include "herald/log/log.hpp"
#include "herald/log/rate_limit.hpp"

namespace herald::net::connection_log {
namespace {

namespace http = boost::beast::http;

// Client-supplied text (an Origin, a channel name) is cut to this much in a
// line: enough to recognise it, not a way to write 64 KiB lines.
constexpr std::size_t quoted_text_limit = 200;

std::string_view clipped(std::string_view text) {
  return text.substr(0, quoted_text_limit);
}

std::string_view protocol_name(core::protocol protocol) {
  return core::protocol_names[core::index_of(protocol)];
}

// One budget per cause: a flood of refused origins leaves the lines about
// max-connections their own.
std::array<log::line_limit, core::refusal_count> refused_lines;
log::line_limit accept_lines;
log::line_limit api_lines;
log::line_limit handshake_lines;
log::line_limit slow_lines;
log::line_limit token_lines;
log::line_limit expired_token_lines;
// Debug lines are asked for, so they get more room, but a connection storm
// still cannot fill the disk with them.
constexpr double connection_lines_per_second = 100;
constexpr double connection_lines_burst = 200;
log::line_limit connect_lines{connection_lines_per_second, connection_lines_burst};
log::line_limit disconnect_lines{connection_lines_per_second, connection_lines_burst};

// The HTTP status each refusal answers with (see http_session).
unsigned status_of(core::refusal why) {
  switch (why) {
    case core::refusal::bad_websocket_key:
      return 400;
    case core::refusal::origin:
    case core::refusal::api_key:
      return 403;
    case core::refusal::rate_per_ip:
      return 429;
    case core::refusal::http_connections:
    case core::refusal::tls_handshake:  // closed before any HTTP: logged on its own
    case core::refusal::draining:
    case core::refusal::connections:
    case core::refusal::connections_per_ip:
      break;
  }
  return 503;
}

}  // namespace

std::string peer_of(const socket_type& socket) {
  boost::system::error_code ec;
  auto address = socket.remote_endpoint(ec).address();
  if (ec) {
    return {};
  }
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return address.to_string();
}

void accept_failed(const boost::system::error_code& error, std::chrono::milliseconds backoff) {
  log::warn(accept_lines, "accept failed, backing off",
            {{"error", error.message()}, {"backoff_ms", backoff.count()}});
}

void refused(core::refusal why, const socket_type& socket, std::string_view origin) {
  if (!log::enabled(log::level::warn)) {
    return;
  }
  const std::string_view cause = core::refusal_names[core::index_of(why)];
  const std::string_view what =
      why == core::refusal::http_connections ? "connection refused" : "upgrade refused";
  auto& limit = refused_lines[core::index_of(why)];
  if (why == core::refusal::origin) {
    log::warn(limit, what,
              {{"cause", cause},
               {"status", status_of(why)},
               {"peer", peer_of(socket)},
               {"origin", clipped(origin)}});
    return;
  }
  log::warn(limit, what, {{"cause", cause}, {"status", status_of(why)}, {"peer", peer_of(socket)}});
}

void api_refused(unsigned status, const http::request_header<>& header, const socket_type& socket) {
  if (!log::enabled(log::level::warn) || (status != 401 && status != 403)) {
    return;
  }
  std::string_view cause = "not loopback";  // 403: without api-key, loopback callers only
  if (status == 401) {
    const bool given =
        !core::api_key_of(header["X-API-Key"], header[http::field::authorization]).empty();
    cause = given ? "wrong api key" : "no api key";
  }
  log::warn(api_lines, "api request refused",
            {{"status", status},
             {"cause", cause},
             {"peer", peer_of(socket)},
             {"target", clipped(header.target())}});
}

void tls_handshake_failed(const boost::system::error_code& error, const socket_type& socket) {
  if (!log::enabled(log::level::warn)) {
    return;
  }
  // OpenSSL's reason ("wrong version number" for plain HTTP, "http
  // request"...), or Beast's timeout when the client stalled.
  log::warn(refused_lines[core::index_of(core::refusal::tls_handshake)], "TLS handshake failed",
            {{"cause", "tls_handshake"}, {"error", error.message()}, {"peer", peer_of(socket)}});
}

void handshake_failed(core::protocol protocol, const boost::system::error_code& error,
                      const socket_type& socket) {
  if (!log::enabled(log::level::warn)) {
    return;
  }
  log::warn(handshake_lines, "websocket handshake failed",
            {{"protocol", protocol_name(protocol)},
             {"error", error.message()},
             {"peer", peer_of(socket)}});
}

void slow_client(core::protocol protocol, const socket_type& socket, std::uint64_t queue_limit) {
  if (!log::enabled(log::level::warn)) {
    return;
  }
  log::warn(slow_lines, "slow client disconnected",
            {{"protocol", protocol_name(protocol)},
             {"peer", peer_of(socket)},
             {"client_queue_max_bytes", queue_limit}});
}

namespace {

void token_rejected(std::string_view command, std::string_view reason, const socket_type& socket,
                    std::string_view channel, bool routine) {
  const auto level = routine ? log::level::debug : log::level::warn;
  if (!log::enabled(level)) {
    return;
  }
  auto& limit = routine ? expired_token_lines : token_lines;
  if (channel.empty()) {
    log::write(level, limit, "token rejected",
               {{"command", command}, {"reason", reason}, {"peer", peer_of(socket)}});
    return;
  }
  log::write(level, limit, "token rejected",
             {{"command", command},
              {"reason", reason},
              {"peer", peer_of(socket)},
              {"channel", clipped(channel)}});
}

// Why a token that did not verify is invalid, as far as the verifier says:
// without token-hmac-secret no token can be valid, which is worth saying.
std::string_view invalid_reason(const core::token_verifier& tokens) {
  return tokens.enabled() ? "invalid (signature, algorithm, claims or nbf)"
                          : "no token-hmac-secret configured";
}

}  // namespace

void token_checked(std::string_view command, core::token_problem problem, bool matches,
                   const core::token_verifier& tokens, const socket_type& socket,
                   std::string_view channel) {
  switch (problem) {
    case core::token_problem::none:
      if (!matches) {
        token_rejected(command, "for another user or channel", socket, channel, false);
      }
      return;
    case core::token_problem::expired:
      token_rejected(command, "expired", socket, channel, true);
      return;
    case core::token_problem::invalid:
      token_rejected(command, invalid_reason(tokens), socket, channel, false);
      return;
  }
}

void channel_token_checked(core::channel_token token, const core::token_verifier& tokens,
                           const socket_type& socket, std::string_view channel) {
  switch (token) {
    case core::channel_token::none:
    case core::channel_token::valid:
      return;
    case core::channel_token::expired:
      token_checked("subscribe", core::token_problem::expired, true, tokens, socket, channel);
      return;
    case core::channel_token::invalid:
      token_checked("subscribe", core::token_problem::invalid, true, tokens, socket, channel);
      return;
    case core::channel_token::foreign:
      token_checked("subscribe", core::token_problem::none, false, tokens, socket, channel);
      return;
  }
}

void anonymous_refused(const socket_type& socket) {
  token_rejected("connect", "no token, and allow-anonymous is off", socket, {}, false);
}

std::unique_ptr<const std::string> peer_for_debug_lines(const socket_type& socket) {
  if (!log::enabled(log::level::debug)) {
    return nullptr;
  }
  return std::make_unique<const std::string>(peer_of(socket));
}

void connected(core::protocol protocol, const std::string* peer) {
  if (!log::enabled(log::level::debug)) {
    return;
  }
  log::debug(connect_lines, "connected",
             {{"protocol", protocol_name(protocol)},
              {"peer", peer ? std::string_view{*peer} : std::string_view{}}});
}

void disconnected(core::protocol protocol, std::uint16_t close_code, const std::string* peer) {
  if (!log::enabled(log::level::debug)) {
    return;
  }
  log::debug(disconnect_lines, "disconnected",
             {{"protocol", protocol_name(protocol)},
              {"code", close_code},
              {"peer", peer ? std::string_view{*peer} : std::string_view{}}});
}

}  // namespace herald::net::connection_log
