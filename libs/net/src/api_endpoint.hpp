#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "http_responses.hpp"
#include "server_context.hpp"

namespace herald::net {

// POST /api/<method>: Centrifugo's server HTTP API; without a
// method (`POST /api`), its legacy form: one `{"method":..,"params":..}`
// per line, one response per line (cent.js's pipeline()).
//
// Checks the caller (with `api-key` set: `X-API-Key: KEY` or
// `Authorization: apikey KEY`, else 401; without one: loopback clients only,
// else 403), decodes the body with core::server_api and hands the request
// to the broadcaster through the hub. `respond` gets the response: at once
// for a refused or undecodable request, otherwise later on the broadcaster's
// thread (the caller moves it to its own I/O thread).
void serve_api(const request& req, std::optional<std::string_view> method, bool from_loopback,
               server_context& ctx, std::function<void(string_response)> respond);

}  // namespace herald::net
