#!/usr/bin/env bash
# Measures Herald on several nodes sharing one Redis (engine = redis) beside
# one node on the memory engine, in one run (docs/benchmarks.md, "S7 and S8:
# several nodes on Redis"):
#
#   S1  memory engine, one node: 1000 subscribers + 1 publisher on /ws, 64 B
#   S7  cross-node fan-out: two nodes on one Redis, 500 subscribers on each,
#       the publisher on node A (the same 1000 + 1 on /ws, 64 B); server CPU
#       is both nodes' plus redis-server's
#   S8  publish throughput into Redis: one node on Redis, 64 publishers on
#       /connection/websocket, each subscribed to and publishing on a channel
#       of its own (herald-bench --channel-per-publisher), so that each
#       publication is delivered once and Redis, not fan-out, is the limit;
#       with history (--history-size=100 --history-ttl=300s: the publish
#       script, XADD) and without (a plain PUBLISH)
#
# S1 and S7 run at each of --rates: "max" (64 in flight) and a fixed 1000
# publications/s by default, the latency the Redis hop adds; the fixed-rate
# runs have --rate-subscribers (1000) subscribers, half on each node in S7.
# S8 runs at max rate, 64 in flight per publisher.
#
#   bench/cluster.sh [--runs 1] [--duration 10] [--scenarios S1,S7,S8]
#                    [--rates max,1000] [--rate-subscribers 1000]
#                    [--server-cpus 0] [--redis-cpus CPUS] [--bench-cpus 1]
#                    [--out DIR]
#
# Herald is $HERALD_BINARY or build-release/apps/herald/herald (it must know
# --engine), herald-bench $HERALD_BENCH_BINARY or
# build-release/apps/herald-bench/herald-bench, Redis $REDIS_SERVER or
# /usr/bin/redis-server (Debian's redis-server package); nothing is built.
# Every measurement starts fresh processes: a Redis on a free loopback port
# (--save '' --appendonly no, in a temporary folder of its own) where the
# scenario needs one, then the nodes (--workers 1). The nodes are pinned to
# --server-cpus, Redis to --redis-cpus (default: the same), herald-bench to
# --bench-cpus (taskset, where present and the machine has 2 CPUs or more). Each run measures every
# scenario in turn. Every measurement is one JSON line appended to
# OUT/results.jsonl (default bench/results/cluster-<UTC time>/), tagged with
# scenario, engine, nodes and the role of each sampled pid; OUT/summary.md
# holds the tables (bench/summarize_cluster.py). Loopback only; each bench
# is bounded by `timeout`, and everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

runs=1
duration=10
scenarios=S1,S7,S8
rates=max,1000
rate_subscribers=1000
server_cpus=0
redis_cpus=
bench_cpus=1
out="$root/bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --rate-subscribers) rate_subscribers=$2; shift 2 ;;
    --server-cpus) server_cpus=$2; shift 2 ;;
    --redis-cpus) redis_cpus=$2; shift 2 ;;
    --bench-cpus) bench_cpus=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "cluster: unknown argument $1" >&2; exit 2 ;;
  esac
done
herald=${HERALD_BINARY:-$root/build-release/apps/herald/herald}
bench=${HERALD_BENCH_BINARY:-$root/build-release/apps/herald-bench/herald-bench}
redis_server=${REDIS_SERVER:-/usr/bin/redis-server}
# The server reads HERALD_* variables as configuration; it gets its flags only.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^HERALD_' || true)
python=/usr/bin/python3
[[ -x $python ]] || python=python3

log() { printf 'cluster: %s\n' "$*" >&2; }

[[ -x $herald ]] || { log "no herald at $herald (set HERALD_BINARY)"; exit 2; }
[[ -x $bench ]] || { log "no herald-bench at $bench (set HERALD_BENCH_BINARY)"; exit 2; }
if [[ ,$scenarios, == *,S7,* || ,$scenarios, == *,S8,* ]]; then
  [[ -x $redis_server ]] || { log "no redis-server at $redis_server (apt-get install redis-server)"; exit 2; }
  "$herald" --help 2>&1 | grep -q -- '--engine' \
    || { log "$herald has no --engine (older than the Redis engine): rebuild it"; exit 2; }
fi
mkdir -p "$out"
results="$out/results.jsonl"
touch "$results"
ulimit -n "$(ulimit -Hn)"

# shellcheck source=bench/server-control.sh
source bench/server-control.sh  # free_port, wait_for_port

pin_servers=()
pin_redis=()
pin_bench=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
  pin_servers=(taskset -c "$server_cpus")
  pin_redis=(taskset -c "${redis_cpus:-$server_cpus}")
  pin_bench=(taskset -c "$bench_cpus")
fi

# Everything started here, stopped in reverse order (nodes before Redis).
started_pids=()
redis_dir=
stop_all() {
  local i
  for ((i = ${#started_pids[@]} - 1; i >= 0; --i)); do
    kill -TERM "${started_pids[i]}" 2>/dev/null || true
    wait "${started_pids[i]}" 2>/dev/null || true
  done
  started_pids=()
  if [[ -n $redis_dir ]]; then
    rm -rf "$redis_dir"
    redis_dir=
  fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start_redis: sets redis_pid and redis_port.
start_redis() {
  redis_port=$(free_port)
  redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/herald-cluster-redis.XXXXXX")
  "${pin_redis[@]}" "$redis_server" --bind 127.0.0.1 --port "$redis_port" \
    --save '' --appendonly no --dir "$redis_dir" --daemonize no \
    --logfile "$redis_dir/redis.log" &
  redis_pid=$!
  started_pids+=("$redis_pid")
  wait_for_port "$redis_port"
}

# start_node NAME ARGS...: a Herald node; sets node_pid and node_port. A
# node on Redis is waited for until its engine is up, so that its channels
# are subscribed in Redis before the bench's warmup begins.
start_node() {
  local name=$1
  shift
  node_port=$(free_port)
  "${pin_servers[@]}" "$herald" --port "$node_port" --address 127.0.0.1 \
    --static-dir "$root/public" --workers 1 --max-connections 19000 \
    --node-name "$name" "$@" >"$out/$name.log" 2>&1 &
  node_pid=$!
  started_pids+=("$node_pid")
  wait_for_port "$node_port"
  if [[ " $* " == *" --engine=redis "* ]]; then
    "$python" bench/cluster_record.py wait-engine "$node_port"
  fi
}

# measure SCENARIO ENGINE NODES ROLES NODE_PORTS RUN BENCH_ARGS...: one
# herald-bench run, its JSON line tagged and appended to results.jsonl.
# ROLES names the --server-pid list's processes in order (e.g.
# node-a,node-b,redis); NODE_PORTS (node-a=PORT,...) says where each node's
# /metrics is read after the run.
measure() {
  local scenario=$1 engine=$2 nodes=$3 roles=$4 node_ports=$5 run=$6
  shift 6
  log "$scenario run $run/$runs"
  local limit status=0
  limit=$("$python" -c 'import sys; print(int(float(sys.argv[1])) + 90)' "$duration")
  timeout "$limit" "${pin_bench[@]}" "$bench" --json --quiet --label "$scenario" \
    --size 64 --warmup 2 --duration "$duration" "$@" >"$out/bench.json" || status=$?
  ((status == 0)) || log "$scenario run $run: herald-bench exited with $status"
  local -a port_pairs
  IFS=, read -ra port_pairs <<<"$node_ports"
  "$python" bench/cluster_record.py record "$out/bench.json" "$scenario" "$engine" "$nodes" \
    "$run" "$roles" "tag:node_cpus=${pin_servers[2]:-any}" "tag:redis_cpus=${pin_redis[2]:-any}" \
    "tag:bench_cpus=${pin_bench[2]:-any}" "${port_pairs[@]}" >>"$results" \
    || log "$scenario run $run wrote no result"
}

# Channels open to anonymous clients that subscribe and publish (as
# tests/integration/herald_harness.py's OPEN_CHANNELS, less presence and
# history queries, which S8 does not use).
open_channels=(--allow-anonymous=true --allow-subscribe-for-client=true
  --allow-subscribe-for-anonymous=true --allow-publish-for-subscriber=true
  --allow-publish-for-anonymous=true)

run_s1() {
  local run=$1 rate label subscribers
  for rate in ${rates//,/ }; do
    label=S1 subscribers=1000
    [[ $rate == max ]] && rate=0
    [[ $rate != 0 ]] && label="S1 rate=$rate" subscribers=$rate_subscribers
    start_node node-a
    measure "$label" memory 1 node-a "node-a=$node_port" "$run" \
      --url "ws://127.0.0.1:$node_port/ws" \
      --server-pid "$node_pid" --subscribers "$subscribers" --publishers 1 --rate "$rate"
    stop_all
  done
}

run_s7() {
  local run=$1 rate label subscribers a_pid a_port
  for rate in ${rates//,/ }; do
    label=S7 subscribers=1000
    [[ $rate == max ]] && rate=0
    [[ $rate != 0 ]] && label="S7 rate=$rate" subscribers=$rate_subscribers
    start_redis
    start_node node-a --engine=redis --redis-address="127.0.0.1:$redis_port"
    a_pid=$node_pid a_port=$node_port
    start_node node-b --engine=redis --redis-address="127.0.0.1:$redis_port"
    measure "$label" redis 2 node-a,node-b,redis "node-a=$a_port,node-b=$node_port" "$run" \
      --url "ws://127.0.0.1:$a_port/ws" \
      --subscriber-urls "ws://127.0.0.1:$a_port/ws,ws://127.0.0.1:$node_port/ws" \
      --server-pid "$a_pid,$node_pid,$redis_pid" --subscribers "$subscribers" --publishers 1 \
      --rate "$rate"
    stop_all
  done
}

run_s8() {
  local run=$1 history label
  local -a history_args
  for history in on off; do
    label="S8 history=$history"
    history_args=()
    [[ $history == on ]] && history_args=(--history-size=100 --history-ttl=300s)
    start_redis
    start_node node-a --engine=redis --redis-address="127.0.0.1:$redis_port" \
      "${open_channels[@]}" "${history_args[@]}"
    measure "$label" redis 1 node-a,redis "node-a=$node_port" "$run" --protocol centrifuge \
      --url "ws://127.0.0.1:$node_port/connection/websocket" \
      --server-pid "$node_pid,$redis_pid" --subscribers 0 --publishers 64 \
      --channel-per-publisher --inflight 64 --rate 0
    stop_all
  done
}

log "$(nproc) CPUs; nodes on ${pin_servers[*]:-any CPU}, redis on ${pin_redis[*]:-any CPU}, bench on ${pin_bench[*]:-any CPU}; load $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$runs"); do
  for scenario in ${scenarios//,/ }; do
    case $scenario in
      S1) run_s1 "$run" ;;
      S7) run_s7 "$run" ;;
      S8) run_s8 "$run" ;;
      *) log "unknown scenario $scenario"; exit 2 ;;
    esac
  done
done

"$python" bench/summarize_cluster.py "$results" >"$out/summary.md"
cat "$out/summary.md"
log "results in $out"
