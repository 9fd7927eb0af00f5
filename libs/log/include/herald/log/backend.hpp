#pragma once

// Where lines go, for tests that read them back: configure() with any
// spdlog sink instead of stderr. Includes spdlog: keep it out of headers
// that the server's code includes.

#include <memory>

#include <spdlog/sinks/sink.h>

#include "herald/log/log.hpp"

namespace herald::log {

void configure(const options& chosen, std::shared_ptr<spdlog::sinks::sink> sink);

}  // namespace herald::log
