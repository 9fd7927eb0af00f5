#include "api_endpoint.hpp"

#include <boost/beast/http/field.hpp>

#include "herald/core/server_api.hpp"

namespace herald::net {
namespace {

namespace api = core::server_api;

constexpr std::string_view json_type = "application/json";

// Compares in time that depends on the lengths only, so a caller cannot
// find the key byte by byte from response times.
bool same_key(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) {
    return false;
  }
  unsigned char difference = 0;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return difference == 0;
}

// The key the request carries: X-API-Key, or Authorization: apikey KEY.
std::string_view key_of(const request& req) {
  if (auto it = req.find("X-API-Key"); it != req.end()) {
    return it->value();
  }
  if (auto it = req.find(http::field::authorization); it != req.end()) {
    constexpr std::string_view scheme = "apikey ";
    const std::string_view value = it->value();
    if (value.size() > scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), value.begin(), [](char a, char b) {
          return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
        })) {
      return value.substr(scheme.size());
    }
  }
  return {};
}

}  // namespace

void serve_api(const request& req, std::optional<std::string_view> method, bool from_loopback,
               server_context& ctx, std::function<void(string_response)> respond) {
  if (req.method() != http::verb::post) {
    respond(method_not_allowed(req, "POST"));
    return;
  }
  const std::string& expected = ctx.settings.api_key;
  if (expected.empty() ? !from_loopback : !same_key(key_of(req), expected)) {
    respond(expected.empty()
                ? make_response(http::status::forbidden, req, "the API answers loopback clients "
                                                              "only while api-key is not set\n")
                : make_response(http::status::unauthorized, req, "unauthorized\n"));
    return;
  }
  std::vector<api::command_slot> commands;
  if (!method) {
    api::legacy_decode_result legacy = api::decode_legacy(req.body());
    if (legacy.http_status != 200) {
      const auto status = static_cast<http::status>(legacy.http_status);
      respond(make_response(status, req, api::plain_text_body(legacy.http_status)));
      return;
    }
    commands = std::move(legacy.commands);
  } else {
    api::decode_result decoded = api::decode(*method, req.body());
    if (decoded.http_status != 200) {
      const auto status = static_cast<http::status>(decoded.http_status);
      respond(make_response(status, req, api::plain_text_body(decoded.http_status)));
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
      std::move(commands),
      [version = req.version(), keep_alive = req.keep_alive(),
       respond = std::move(respond)](std::string body) {
        respond(make_response(http::status::ok, version, keep_alive, body, json_type));
      }});
}

}  // namespace herald::net
