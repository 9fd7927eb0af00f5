#!/usr/bin/env bash
# Installs what the tests need, checks the formatting (clang-format), builds,
# and runs every test: Catch2 unit and
# actor tests plus the integration tests against the real binary (ctest),
# then the same suite under ASan+UBSan, the libFuzzer targets on the decoders
# (15 s each), then the Docker image check. Set HERALD_SKIP_SANITIZERS=1,
# HERALD_SKIP_FUZZ=1 or HERALD_SKIP_DOCKER=1 to leave those out.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
scripts/setup.sh --test
scripts/format-check.sh
scripts/build.sh -DHERALD_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure
echo "test.sh: main suite took $((SECONDS - started)) s"
if [[ "${HERALD_SKIP_SANITIZERS:-0}" != 1 ]]; then
  step=$SECONDS
  scripts/sanitize.sh address,undefined
  echo "test.sh: ASan+UBSan suite took $((SECONDS - step)) s"
fi
if [[ "${HERALD_SKIP_FUZZ:-0}" != 1 ]]; then
  step=$SECONDS
  scripts/fuzz.sh 15
  echo "test.sh: fuzzing took $((SECONDS - step)) s"
fi
if [[ "${HERALD_SKIP_DOCKER:-0}" != 1 ]]; then
  step=$SECONDS
  scripts/docker-check.sh
  echo "test.sh: Docker check took $((SECONDS - step)) s"
fi
echo "test.sh: all passed in $((SECONDS - started)) s"
