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
// The answer to a request whose header already rules it out, before any of
// its body is read: a method other than POST (405), or a caller who may not
// call the API (with `api-key` set: `X-API-Key: KEY` or `Authorization:
// apikey KEY`, else 401; without one: loopback clients only, else 403).
std::optional<string_response> refuse_api_header(const http::request_header<>& header,
                                                 bool from_loopback, const server_context& ctx);

// A request refuse_api_header() let through, body and all: decodes the
// body with core::server_api and hands the request to the broadcaster
// through the hub. `respond` gets the response: at once for an undecodable
// request, otherwise later on the broadcaster's thread (the caller moves it
// to its own I/O thread).
void serve_api(const request& req, std::optional<std::string_view> method, server_context& ctx,
               std::function<void(string_response)> respond);

}  // namespace herald::net
