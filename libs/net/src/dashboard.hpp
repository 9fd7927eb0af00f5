#pragma once

#include <string>
#include <string_view>

#include "herald/core/channel_policy.hpp"
#include "herald/core/client_protocol.hpp"
#include "http_responses.hpp"
#include "server_context.hpp"

namespace herald::net {

// POST /dashboard/token with {"password":"..."}: 200 and
// {"token","channel","expires_in"} for the right password; 403 for a wrong
// one; 429 after too many wrong ones from `address`; 400 for a body that
// is not such an object; 405 for another method; 404 without
// `dashboard = true`.
string_response serve_dashboard_token(const request& req, server_context& ctx,
                                      const std::string& address);

// What the dashboard changes in a client-protocol session.
//
// A connect token that is a dashboard token (none or expired), or invalid
// for anything else (or with `dashboard = false`): the session then tries
// it as a client token.
core::token_problem verify_dashboard_token(const server_context& ctx, std::string_view token);

// A connection admitted by a dashboard token may subscribe to (and leave)
// the stats channel; everything else is refused with 103.
bool dashboard_connection_may(const core::client_protocol::command& command);

// A subscribe to the stats channel: only a dashboard token lets it in (a
// client token, a connect token's `channels` or a namespace rule never
// does); a dashboard connection needs no second one.
core::channel_token stats_channel_token(const server_context& ctx, std::string_view token,
                                        bool dashboard_connection);

}  // namespace herald::net
