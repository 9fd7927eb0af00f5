#pragma once

#include <functional>
#include <string>
#include <vector>

#include "herald/core/server_api.hpp"

namespace herald::actors {

// One server API request (POST /api/<method>, already decoded) on its way to
// the broadcaster, which owns the state every method reads or changes.
// `reply` gets the whole JSON response body; the broadcaster calls it on its
// own thread, so the HTTP session posts it back to its I/O thread. If the
// broadcaster is gone (shutdown), the call is dropped unanswered and the
// reply, with whatever it holds, is released.
//
// Usually one command (`/api/<method>`); the legacy `POST /api` carries
// several, answered in order, one body per line. A slot that holds an
// error is answered with it.
struct api_call {
  std::vector<core::server_api::command_slot> commands;
  std::function<void(std::string body)> reply;
};

}  // namespace herald::actors
