#include "http_responses.hpp"

#include <boost/beast/http/field.hpp>

namespace herald::net {

string_response make_response(http::status status, unsigned version, bool keep_alive,
                              std::string_view body, std::string_view content_type) {
  string_response res{status, version};
  res.set(http::field::server, server_name);
  res.set(http::field::content_type, content_type);
  res.keep_alive(keep_alive);
  res.body() = std::string{body};
  res.prepare_payload();
  return res;
}

string_response make_response(http::status status, const request& req, std::string_view body,
                              std::string_view content_type) {
  auto res = make_response(status, req.version(), req.keep_alive(), body, content_type);
  if (req.method() == http::verb::head) {
    res.body().clear();
    res.content_length(body.size());
  }
  return res;
}

string_response method_not_allowed(const request& req, std::string_view allowed) {
  auto res = make_response(http::status::method_not_allowed, req, "method not allowed\n");
  res.set(http::field::allow, allowed);
  return res;
}

}  // namespace herald::net
