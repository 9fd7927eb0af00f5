#pragma once

// The process-wide count behind lines_dropped(), shared by rate_limit.cpp
// and log.cpp.

namespace herald::log {

void count_dropped_line();

}  // namespace herald::log
