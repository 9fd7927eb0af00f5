#!/usr/bin/env bash
# Installs the build dependencies, builds Herald in Release mode and runs it
# on config/herald.ini (port 8000, public/ served, one worker per core).
# Extra arguments are passed to herald, e.g. --port=9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=build-release BUILD_TYPE=Release scripts/build.sh -DHERALD_BUILD_TESTS=OFF
exec build-release/apps/herald/herald --config-file=config/herald.ini "$@"
