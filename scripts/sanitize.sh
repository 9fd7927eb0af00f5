#!/usr/bin/env bash
# Builds the whole tree with ASan+UBSan (or TSan: scripts/sanitize.sh thread)
# in build-<name>/ and runs every test against it, the integration tests
# driving the sanitized server binary.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-address,undefined}"
name="${kind//,/-}"
scripts/setup.sh --test
BUILD_DIR="build-$name" BUILD_TYPE=Debug scripts/build.sh -DHERALD_SANITIZE="$kind"
suppressions="$PWD/tests/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$suppressions/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$suppressions/ubsan.supp"
# Timing bounds of the liveness tests (test_abuse.py) scale by this: a
# sanitized Debug build runs several times slower.
export HERALD_TEST_SLOWDOWN=5
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$suppressions/tsan.supp"
ctest --test-dir "build-$name" --output-on-failure
