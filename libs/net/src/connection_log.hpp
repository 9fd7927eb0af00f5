#pragma once

// The transport's log lines: what an operator must know about the
// connections (refused upgrades by cause, failed handshakes, slow clients,
// refused API calls, rejected tokens, accept errors), and, at debug, every
// WebSocket connect and disconnect with its close code.
//
// A client can cause each of these lines, so each kind goes through a
// line_limit of its own (10 lines a second, bursts of 20; the connect and
// disconnect lines 100 a second, bursts of 200): a flood of bad requests
// costs at most that many lines, and herald_log_lines_dropped_total counts
// the rest. Each call checks the level first and only then asks the socket
// for the peer's address, so a line that is off costs no system call.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>

#include "herald/core/channel_policy.hpp"
#include "herald/core/metrics.hpp"
#include "herald/core/token_verifier.hpp"

namespace herald::net::connection_log {

using socket_type = boost::asio::ip::tcp::socket;

// The peer's IP address as text (IPv4-mapped IPv6 as IPv4); "" when the
// socket no longer knows it.
std::string peer_of(const socket_type& socket);

// The listener's accept failed (EMFILE, ENFILE, ENOBUFS...): it waits
// `backoff` before accepting again.
void accept_failed(const boost::system::error_code& error, std::chrono::milliseconds backoff);

// A connection or an upgrade turned away before it was served; `origin` is
// the request's Origin header, named in the line for cause origin.
void refused(core::refusal why, const socket_type& socket, std::string_view origin = {});

// A request to the server API turned away by its headers: 401 (no or a
// wrong key) and 403 (no api-key set, caller not on loopback) are logged;
// other answers (405) are not auth failures and are not.
void api_refused(unsigned status, const boost::beast::http::request_header<>& header,
                 const socket_type& socket);

// The WebSocket handshake after an accepted upgrade failed (or timed out).
void handshake_failed(core::protocol protocol, const boost::system::error_code& error,
                      const socket_type& socket);

// The TLS handshake failed or ran past handshake-timeout (plain HTTP or
// garbage on the TLS port, a client that stalled, no common version or
// cipher): the connection is closed without a word.
void tls_handshake_failed(const boost::system::error_code& error, const socket_type& socket);

// A client fell client-queue-max-bytes behind and is being disconnected.
void slow_client(core::protocol protocol, const socket_type& socket, std::uint64_t queue_limit);

// A token check's outcome: logs nothing for a good token. `matches`: the
// claims fit the connection (user) and the channel, where the command
// checks that. Expired tokens are routine (the client refreshes): debug;
// the others: warn, with the reason.
void token_checked(std::string_view command, core::token_problem problem, bool matches,
                   const core::token_verifier& tokens, const socket_type& socket,
                   std::string_view channel = {});
// A subscribe's channel token, as the session classified it.
void channel_token_checked(core::channel_token token, const core::token_verifier& tokens,
                           const socket_type& socket, std::string_view channel);
// A connect without a token while allow-anonymous is off.
void anonymous_refused(const socket_type& socket);

// The peer's address kept for the disconnect line (the socket is closed by
// then); null, and nothing kept, while debug lines are off.
std::unique_ptr<const std::string> peer_for_debug_lines(const socket_type& socket);
void connected(core::protocol protocol, const std::string* peer);
void disconnected(core::protocol protocol, std::uint16_t close_code, const std::string* peer);

}  // namespace herald::net::connection_log
