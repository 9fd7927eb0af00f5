#include "dashboard.hpp"

#include <chrono>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "herald/core/dashboard.hpp"

namespace herald::net {
namespace {

constexpr std::string_view json_type = "application/json";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

string_response json_response(http::status status, const request& req, std::string_view body) {
  auto response = make_response(status, req, body, json_type);
  response.set(http::field::cache_control, "no-store");
  return response;
}

}  // namespace

string_response serve_dashboard_token(const request& req, server_context& ctx,
                                      const std::string& address) {
  if (!ctx.dashboard) {
    return make_response(http::status::not_found, req, "not found\n");
  }
  if (req.method() != http::verb::post) {
    return method_not_allowed(req, "POST");
  }
  const std::string counted = core::attempt_key(address);
  if (!ctx.dashboard->may_try(counted)) {
    return json_response(http::status::too_many_requests, req,
                         R"({"error":"too many wrong passwords, try again in a minute"})");
  }
  const auto password = core::decode_dashboard_login(req.body());
  if (!password) {
    return json_response(http::status::bad_request, req,
                         R"({"error":"expected {\"password\":\"...\"}"})");
  }
  if (!ctx.dashboard->keys().password_matches(*password)) {
    ctx.dashboard->failed(counted);
    return json_response(http::status::forbidden, req, R"({"error":"wrong password"})");
  }
  const std::int64_t now = unix_now();
  const boost::json::object body{{"token", ctx.dashboard->keys().issue_token(now)},
                                 {"channel", core::dashboard_channel},
                                 {"expires_in", core::dashboard_token_ttl_seconds}};
  return json_response(http::status::ok, req, boost::json::serialize(body));
}

core::token_problem verify_dashboard_token(const server_context& ctx, std::string_view token) {
  if (!ctx.dashboard) {
    return core::token_problem::invalid;
  }
  return ctx.dashboard->keys().verify_token(token, unix_now());
}

bool dashboard_connection_may(const core::client_protocol::command& command) {
  namespace cp = core::client_protocol;
  if (const auto* subscribe = std::get_if<cp::subscribe_request>(&command.body)) {
    return subscribe->channel == core::dashboard_channel;
  }
  if (const auto* unsubscribe = std::get_if<cp::unsubscribe_request>(&command.body)) {
    return unsubscribe->channel == core::dashboard_channel;
  }
  return false;
}

core::channel_token stats_channel_token(const server_context& ctx, std::string_view token,
                                        bool dashboard_connection) {
  if (token.empty()) {
    return dashboard_connection ? core::channel_token::valid : core::channel_token::none;
  }
  switch (verify_dashboard_token(ctx, token)) {
    case core::token_problem::none:
      return core::channel_token::valid;
    case core::token_problem::expired:
      return core::channel_token::expired;
    case core::token_problem::invalid:
      break;
  }
  return core::channel_token::invalid;
}

}  // namespace herald::net
