#pragma once

#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

namespace herald::net {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using string_response = http::response<http::string_body>;

inline constexpr std::string_view server_name = "herald";

// A complete response with a short body; Content-Length is set.
string_response make_response(http::status status, unsigned version, bool keep_alive,
                              std::string_view body,
                              std::string_view content_type = "text/plain; charset=utf-8");

// The response to `req`: its version and keep-alive, and for HEAD the
// Content-Length of `body` without the body itself (a body after a HEAD
// response would be read as the start of the next response).
string_response make_response(http::status status, const request& req, std::string_view body,
                              std::string_view content_type = "text/plain; charset=utf-8");

// 405 with the Allow header listing `allowed` methods.
string_response method_not_allowed(const request& req, std::string_view allowed);

}  // namespace herald::net
