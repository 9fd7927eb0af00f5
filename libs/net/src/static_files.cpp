#include "static_files.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <string>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/file_body.hpp>

#include "herald/core/mime_types.hpp"
#include "herald/core/static_path.hpp"
#include "herald/core/text.hpp"

namespace herald::net {
namespace {

std::string http_date(std::time_t when) {
  std::tm tm{};
  gmtime_r(&when, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buffer;
}

// Returns -1 when `text` is not an IMF-fixdate.
std::time_t parse_http_date(std::string_view text) {
  std::tm tm{};
  const std::string copy{text};
  const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') {
    return -1;
  }
  return timegm(&tm);
}

bool etag_matches(std::string_view header, std::string_view etag) {
  // If-None-Match is a list of entity tags, or "*"; weak comparison.
  for (auto item : core::split_comma_list(header)) {
    if (item.substr(0, 2) == "W/") {
      item.remove_prefix(2);
    }
    if (item == "*" || item == etag) {
      return true;
    }
  }
  return false;
}

}  // namespace

http::message_generator serve_static_file(const request& req, const std::filesystem::path& root) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    return method_not_allowed(req, "GET, HEAD");
  }
  const auto resolved = core::resolve_static_file(root, req.target());
  if (resolved.error == core::path_error::bad_request) {
    return make_response(http::status::bad_request, req, "bad request\n");
  }
  if (resolved.error == core::path_error::not_found) {
    return make_response(http::status::not_found, req, "not found\n");
  }

  http::file_body::value_type body;
  boost::beast::error_code ec;
  body.open(resolved.file.c_str(), boost::beast::file_mode::scan, ec);
  struct stat info {};
  if (ec || ::fstat(body.file().native_handle(), &info) != 0) {
    return make_response(http::status::not_found, req, "not found\n");
  }

  char etag_buffer[64];
  std::snprintf(etag_buffer, sizeof etag_buffer, "\"%llx-%llx\"",
                static_cast<unsigned long long>(info.st_size),
                static_cast<unsigned long long>(info.st_mtim.tv_sec) * 1000000000ull +
                    static_cast<unsigned long long>(info.st_mtim.tv_nsec));
  const std::string etag = etag_buffer;
  const std::string last_modified = http_date(info.st_mtim.tv_sec);
  const auto content_type = core::mime_type_for(resolved.file.native());

  const auto set_validators = [&](auto& res) {
    res.set(http::field::server, server_name);
    res.set(http::field::etag, etag);
    res.set(http::field::last_modified, last_modified);
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(req.keep_alive());
  };

  bool not_modified = false;
  if (auto it = req.find(http::field::if_none_match); it != req.end()) {
    not_modified = etag_matches(it->value(), etag);
  } else if (auto since = req.find(http::field::if_modified_since); since != req.end()) {
    const std::time_t when = parse_http_date(since->value());
    not_modified = when != -1 && info.st_mtim.tv_sec <= when;
  }
  if (not_modified) {
    http::response<http::empty_body> res{http::status::not_modified, req.version()};
    set_validators(res);
    return res;
  }

  if (req.method() == http::verb::head) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    set_validators(res);
    res.set(http::field::content_type, content_type);
    res.content_length(body.size());
    return res;
  }
  const auto size = body.size();
  http::response<http::file_body> res{std::piecewise_construct, std::make_tuple(std::move(body)),
                                      std::make_tuple(http::status::ok, req.version())};
  set_validators(res);
  res.set(http::field::content_type, content_type);
  res.content_length(size);
  return res;
}

}  // namespace herald::net
