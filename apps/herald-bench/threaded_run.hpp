#pragma once

#include "bench_options.hpp"
#include "bench_results.hpp"
#include "bench_runner.hpp"

namespace herald::bench {

// Runs the bench on --threads event loops (at most one per subscriber) and
// returns the run's figures. Throws what a runner throws (an epoll failure),
// once every thread has stopped.
bench_results run_bench(const bench_options& options, const run_target& target);

}  // namespace herald::bench
