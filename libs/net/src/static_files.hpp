#pragma once

#include <filesystem>

#include <boost/beast/http/message_generator.hpp>

#include "http_responses.hpp"

namespace herald::net {

// Answers GET/HEAD for a file under `root` (canonical): index.html for
// folders, Content-Type by extension, ETag and Last-Modified with 304 on a
// match; 400 for malformed or escaping targets, 404 for missing files, 405
// for other methods.
http::message_generator serve_static_file(const request& req, const std::filesystem::path& root);

}  // namespace herald::net
