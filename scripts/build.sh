#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build/). Extra arguments go
# to CMake's configure step, e.g. -DHERALD_SANITIZE=address,undefined.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
# Each Beast or CAF translation unit takes about 1.3 GB and 30 s to compile:
# two jobs use both cores without running out of memory.
cmake --build "$build_dir" -j "${JOBS:-2}"
