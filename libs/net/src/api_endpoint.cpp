#include "api_endpoint.hpp"

#include <boost/beast/http/field.hpp>

#include "herald/core/api_access.hpp"
#include "herald/core/server_api.hpp"

namespace herald::net {
namespace {

namespace api = core::server_api;

constexpr std::string_view json_type = "application/json";

}  // namespace

std::optional<string_response> refuse_api_header(const http::request_header<>& header,
                                                 bool from_loopback, const server_context& ctx) {
  // Closed after the answer: the body, unread, is drained, not parsed.
  if (header.method() != http::verb::post) {
    auto response = make_response(http::status::method_not_allowed, header.version(), false,
                                  "method not allowed\n");
    response.set(http::field::allow, "POST");
    return response;
  }
  const std::string_view given =
      core::api_key_of(header["X-API-Key"], header[http::field::authorization]);
  switch (core::check_api_access(ctx.settings.api_key, given, from_loopback)) {
    case core::api_access::allowed:
      return std::nullopt;
    case core::api_access::unauthorized:
      return make_response(http::status::unauthorized, header.version(), false, "unauthorized\n");
    case core::api_access::loopback_only:
      return make_response(http::status::forbidden, header.version(), false,
                           "the API answers loopback clients only while api-key is not set\n");
  }
  return std::nullopt;
}

void serve_api(const request& req, std::optional<std::string_view> method, server_context& ctx,
               std::function<void(string_response)> respond) {
  // A body that does not decode: the status and Go's plain-text body.
  const auto refuse = [&](unsigned status) {
    respond(make_response(static_cast<http::status>(status), req, api::plain_text_body(status)));
  };
  std::vector<api::command_slot> commands;
  if (!method) {
    api::legacy_decode_result legacy = api::decode_legacy(req.body());
    if (legacy.http_status != 200) {
      refuse(legacy.http_status);
      return;
    }
    commands = std::move(legacy.commands);
  } else {
    api::decode_result decoded = api::decode(*method, req.body());
    if (decoded.http_status != 200) {
      refuse(decoded.http_status);
      return;
    }
    if (decoded.error || !decoded.value) {
      std::string body;
      api::append_error(body, decoded.error ? *decoded.error : api::errors::bad_request);
      respond(make_response(http::status::ok, req, body, json_type));
      return;
    }
    commands.emplace_back(std::move(*decoded.value));
  }
  ctx.counters.api_requests.fetch_add(1, std::memory_order_relaxed);
  ctx.hub.call_api(actors::api_call{
      std::move(commands), [version = req.version(), keep_alive = req.keep_alive(),
                            respond = std::move(respond)](std::string body) {
        respond(make_response(http::status::ok, version, keep_alive, body, json_type));
      }});
}

}  // namespace herald::net
