#pragma once

#include <functional>
#include <string>

#include "herald/core/server_api.hpp"

namespace herald::actors {

// One server API request (POST /api/<method>, already decoded) on its way to
// the broadcaster, which owns the state every method reads or changes.
// `reply` gets the whole JSON response body; the broadcaster calls it on its
// own thread, so the HTTP session posts it back to its I/O thread. If the
// broadcaster is gone (shutdown), the call is dropped unanswered and the
// reply, with whatever it holds, is released.
struct api_call {
  core::server_api::request request;
  std::function<void(std::string body)> reply;
};

}  // namespace herald::actors
