#!/usr/bin/env bash
# Measures how Herald's throughput scales with `workers` on a machine with
# more cores than the development VM (docs/benchmarks.md, "Scaling with
# workers"). For each worker count the server is started fresh and measured
# on two shapes:
#
#   channels  CHANNELS herald-bench processes, each on its own channel of
#             /connection/websocket: SUBSCRIBERS subscribers + 1 publisher,
#             64 B, max rate (64 in flight). Many independent channels, the
#             common production shape; the benches are no bottleneck as
#             long as each has its own core.
#   fanout    S1's shape on /ws: one herald-bench, 1000 subscribers, one
#             publisher, 64 B, max rate. The bench spreads its subscribers
#             over --fanout-threads event loops (default: one per bench CPU)
#             on all of --bench-cpus, so that receiving is not the limit:
#             one loop alone tops out near 0.13 us per delivery on the
#             development VM.
#
#   bench/scaling.sh [--workers 1,2,4,8] [--channels 8] [--subscribers 500]
#                    [--duration 8] [--runs 1] [--shapes channels,fanout]
#                    [--fanout-threads N]
#                    [--server-cpus 0-7] [--bench-cpus 8-15]
#                    [--herald PATH] [--bench PATH] [--out DIR]
#
# The server is confined to --server-cpus, each channels bench pinned to one
# CPU of --bench-cpus (round-robin) and the fanout bench to all of them.
# Binaries default to build-release/ (built by bench/run-scenarios.sh or
# scripts/build.sh); nothing is built here, so a prepared bundle can run on a machine without the toolchain.
# Every measurement is one JSON line in OUT/results.jsonl; OUT/summary.md
# holds the table. Loopback only; every run stops by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

workers_list=1,2,4,8
channels=8
subscribers=500
duration=8
runs=1
shapes=channels,fanout
fanout_threads=
server_cpus=0-7
bench_cpus=8-15
herald="$root/build-release/apps/herald/herald"
bench="$root/build-release/apps/herald-bench/herald-bench"
out="$root/bench/results/scaling-$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --workers) workers_list=$2; shift 2 ;;
    --channels) channels=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --fanout-threads) fanout_threads=$2; shift 2 ;;
    --server-cpus) server_cpus=$2; shift 2 ;;
    --bench-cpus) bench_cpus=$2; shift 2 ;;
    --herald) herald=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "scaling: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The server reads HERALD_* variables as configuration; it gets its flags only.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^HERALD_' || true)
python=${PYTHON:-python3}
[[ -x /usr/bin/python3 && -z ${PYTHON:-} ]] && python=/usr/bin/python3
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
ulimit -n "$(ulimit -Hn)"

log() { printf 'scaling: %s\n' "$*" >&2; }

# "8-11,14" -> "8 9 10 11 14"
expand_cpus() {
  local part first last
  local -a parts
  IFS=, read -ra parts <<<"$1"
  for part in "${parts[@]}"; do
    if [[ $part == *-* ]]; then
      first=${part%-*} last=${part#*-}
      seq "$first" "$last"
    else
      echo "$part"
    fi
  done | tr '\n' ' '
}
read -ra bench_cpu_list <<<"$(expand_cpus "$bench_cpus")"
fanout_threads=${fanout_threads:-${#bench_cpu_list[@]}}

# shellcheck source=bench/server-control.sh
source bench/server-control.sh

start_server() {
  local workers=$1
  port=$(free_port)
  (pin "$server_cpus" "$herald" --port "$port" --address 127.0.0.1 \
    --static-dir "$root/public" --workers "$workers" --max-connections 19000 \
    --allow-anonymous=true --allow-subscribe-for-client=true \
    --allow-subscribe-for-anonymous=true --allow-publish-for-subscriber=true \
    --allow-publish-for-anonymous=true >"$out/server-$workers.log" 2>&1) &
  server_pid=$!
  wait_for_port "$port"
}

# run_benches SHAPE WORKERS RUN COUNT BENCH_ARGS...: COUNT bench processes at
# once (bench i gets channel ch<i>), each one JSON line tagged for summarize.
# Each channels bench has a CPU of its own; the fanout bench (whose threads
# need room) gets all of --bench-cpus.
run_benches() {
  local shape=$1 workers=$2 run=$3 count=$4
  shift 4
  local -a pids=()
  local i cpu
  for ((i = 0; i < count; ++i)); do
    cpu=${bench_cpu_list[i % ${#bench_cpu_list[@]}]}
    if [[ $shape == fanout ]]; then
      cpu=$bench_cpus
    fi
    (pin "$cpu" "$bench" --server-pid "$server_pid" --json --quiet \
      --label "$shape" --channel "ch$i" "$@" >"$out/bench-$i.json") &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || log "$shape workers=$workers bench $i failed"
    "$python" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); r.update(shape=sys.argv[2], workers=int(sys.argv[3]), run=int(sys.argv[4]), bench=int(sys.argv[5])); print(json.dumps(r))' \
      "$out/bench-$i.json" "$shape" "$workers" "$run" "$i" >>"$results" \
      || log "$shape workers=$workers bench $i wrote no result"
  done
}

log "$(nproc) CPUs; server on $server_cpus, benches on $bench_cpus"
IFS=, read -ra worker_counts <<<"$workers_list"
for shape in ${shapes//,/ }; do
  for workers in "${worker_counts[@]}"; do
    for run in $(seq "$runs"); do
      start_server "$workers"
      log "$shape workers=$workers run $run/$runs"
      case $shape in
        channels)
          run_benches channels "$workers" "$run" "$channels" \
            --url "ws://127.0.0.1:$port/connection/websocket" --protocol centrifuge \
            --subscribers "$subscribers" --publishers 1 --size 64 --rate 0 \
            --settle 2 --warmup 2 --duration "$duration" ;;
        fanout)
          run_benches fanout "$workers" "$run" 1 --url "ws://127.0.0.1:$port/ws" \
            --subscribers 1000 --publishers 1 --size 64 --rate 0 \
            --threads "$fanout_threads" --warmup 2 --duration "$duration" ;;
        *) log "unknown shape $shape"; exit 2 ;;
      esac
      stop_server
    done
  done
done

"$python" bench/summarize_scaling.py "$results" >"$out/summary.md"
cat "$out/summary.md"
log "results in $out"
