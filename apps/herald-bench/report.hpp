#pragma once

#include <cstdio>

#include "bench_results.hpp"

namespace herald::bench {

// A few lines for a person reading a terminal.
void print_summary(std::FILE* out, const bench_results& results);

// Exactly one line of JSON with every figure; unavailable ones are null.
void print_json_line(std::FILE* out, const bench_results& results);

}  // namespace herald::bench
