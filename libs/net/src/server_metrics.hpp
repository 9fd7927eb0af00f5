#pragma once

#include "herald/core/metrics.hpp"
#include "server_context.hpp"

namespace herald::net {

// Every figure of this node at this moment: the sessions' counters, the
// broadcaster's and the process's CPU time and RSS. What /metrics renders
// and the dashboard's stats publisher sends.
core::metrics_snapshot snapshot_metrics(const server_context& ctx);

}  // namespace herald::net
