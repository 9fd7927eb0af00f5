#!/usr/bin/env bash
# Builds the libFuzzer targets on the decoders (tests/fuzz) with clang,
# ASan and UBSan, and runs each for SECONDS (default 20) from its seed
# corpus. Fails on any crash, sanitizer report or broken invariant.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_seed_codec fuzz_client_protocol fuzz_static_path fuzz_server_api
    fuzz_engine_codec fuzz_inflating_frame_reader)
fi
build_dir=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHERALD_FUZZ=ON -DHERALD_SANITIZE=address,undefined >/dev/null
cmake --build "$build_dir" -j "${JOBS:-2}" --target "${targets[@]}"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for target in "${targets[@]}"; do
  # New inputs go to a scratch copy, so the committed seeds stay small.
  work="$build_dir/corpus/$target"
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
  echo "fuzz.sh: $target for ${seconds} s"
  "$build_dir/tests/fuzz/$target" -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=0 -artifact_prefix="$build_dir/$target-" "$work" \
    2>"$build_dir/$target.log" || {
      tail -40 "$build_dir/$target.log"
      # CI's clone is gone once it ends: the input goes into the log too.
      for input in "$build_dir/$target"-*; do
        [[ -f $input ]] && { echo "fuzz.sh: $input, base64:"; base64 -w0 "$input"; echo; }
      done
      echo "fuzz.sh: $target failed; the input is in $build_dir ($target-crash-*)" >&2
      exit 1
    }
  grep -E "^#[0-9]+ *DONE|Done [0-9]+ runs" "$build_dir/$target.log" | tail -1 || true
done
echo "fuzz.sh: all targets ran clean"
