#!/usr/bin/env bash
# Measures how a server's resident memory grows with idle connections and
# with subscriptions per connection (docs/benchmarks.md, "Idle memory: how
# it grows"). Every point gets a freshly started server (an allocator rarely
# gives memory back) pinned to --server-cpu, and one herald-bench --idle run
# pinned to --bench-cpu that reads the server's RSS before connecting and after settling:
#
#   connections  /ws with N idle connections, N in --connections; Herald, and
#                uWebSockets beside it when UWS_BROADCAST names its binary
#                (see bench/start-peer.sh)
#   channels     /connection/websocket with --channel-connections
#                connections, each subscribed to its channel and E more
#                (herald-bench --extra-channels E), E in --extra-channels;
#                Herald only (the other servers have no channels)
#
#   bench/idle-memory.sh [--connections 1000,5000,10000,19000]
#                        [--channel-connections 10000] [--extra-channels 0,1,4,16]
#                        [--shapes connections,channels] [--runs 1] [--out DIR]
#                        [--server-cpu 0] [--bench-cpu 1]
#
# 19,000 connections is what one process gets under this machine's hard
# limit of 20,000 descriptors. Binaries come from build-release/ (built by
# bench/run-scenarios.sh or scripts/build.sh). OUT/results.jsonl holds one
# JSON line per run (herald-bench's report plus shape, server and run);
# OUT/summary.md the table. Loopback only; every run stops by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

connections_list=1000,5000,10000,19000
channel_connections=10000
extra_list=0,1,4,16
shapes=connections,channels
runs=1
server_cpu=0
bench_cpu=1
herald="$root/build-release/apps/herald/herald"
bench="$root/build-release/apps/herald-bench/herald-bench"
out="$root/bench/results/idle-memory-$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --connections) connections_list=$2; shift 2 ;;
    --channel-connections) channel_connections=$2; shift 2 ;;
    --extra-channels) extra_list=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --bench-cpu) bench_cpu=$2; shift 2 ;;
    --herald) herald=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "idle-memory: unknown argument $1" >&2; exit 2 ;;
  esac
done
# The server reads HERALD_* variables as configuration; it gets its flags only.
unset "${!HERALD_@}"
python=/usr/bin/python3
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
log() { echo "idle-memory: $*" >&2; }

# shellcheck source=bench/server-control.sh
source bench/server-control.sh

start_server() {
  local name=$1
  port=$(free_port)
  case $name in
    herald)
      (pin "$server_cpu" "$herald" --port "$port" --address 127.0.0.1 --workers 1 \
        --max-connections 19500 --log-level error --allow-anonymous=true \
        --allow-subscribe-for-client=true --allow-subscribe-for-anonymous=true \
        >"$out/server.log" 2>&1) & ;;
    uws)
      (pin "$server_cpu" bench/start-peer.sh uws "$port" >"$out/server.log" 2>&1) & ;;
  esac
  server_pid=$!
  wait_for_port "$port"
}

# measure SHAPE SERVER RUN CONNECTIONS EXTRA URL_PATH BENCH_ARGS...
measure() {
  local shape=$1 server=$2 run=$3 connections=$4 extra=$5 path=$6
  shift 6
  start_server "$server"
  log "$shape $server connections=$connections extra_channels=$extra run $run/$runs"
  if (pin "$bench_cpu" "$bench" --url "ws://127.0.0.1:$port$path" --server-pid "$server_pid" \
        --json --quiet --idle --subscribers "$connections" --settle 3 --duration 1 \
        --connect-concurrency 200 "$@" >"$out/bench.json"); then
    "$python" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read()); r.update(shape=sys.argv[2], server=sys.argv[3], run=int(sys.argv[4]), extra_channels=int(sys.argv[5])); print(json.dumps(r))' \
      "$out/bench.json" "$shape" "$server" "$run" "$extra" >>"$results"
  else
    log "$shape $server connections=$connections: the bench failed"
  fi
  stop_server
}

servers=herald
[[ -x ${UWS_BROADCAST:-} ]] && servers="herald uws"
for run in $(seq "$runs"); do
  for shape in ${shapes//,/ }; do
    case $shape in
      connections)
        for connections in ${connections_list//,/ }; do
          for server in $servers; do
            measure connections "$server" "$run" "$connections" 0 /ws
          done
        done ;;
      channels)
        for extra in ${extra_list//,/ }; do
          measure channels herald "$run" "$channel_connections" "$extra" \
            /connection/websocket --protocol centrifuge --extra-channels "$extra"
        done ;;
      *) log "unknown shape $shape"; exit 2 ;;
    esac
  done
done

"$python" - "$results" >"$out/summary.md" <<'PY'
import json, statistics, sys
from collections import defaultdict
points = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("rss_per_connection_bytes") is None:
        continue
    key = (r["shape"], r["server"], r["subscribers"], r["extra_channels"])
    points[key].append(r)
# "refused": subscribes the server refused (most in a run); a row with
# refusals holds fewer channels per connection than it says.
print("| shape | server | connections | channels each | RSS before | RSS after | KB per connection | ok | refused |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for key in sorted(points):
    shape, server, connections, extra = key
    rs = points[key]
    med = lambda f: statistics.median(f(r) for r in rs)
    print("| %s | %s | %d | %d | %.1f MiB | %.1f MiB | %.2f | %d | %d |" % (
        shape, server, connections, 1 + extra if shape == "channels" else 1,
        med(lambda r: r["server_rss_before_bytes"]) / 2**20,
        med(lambda r: r["server_rss_bytes"]) / 2**20,
        med(lambda r: r["rss_per_connection_bytes"]) / 1000,
        min(r["connections_ok"] for r in rs),
        max(sum(r["command_errors"].values()) for r in rs)))
PY
cat "$out/summary.md"
log "results in $out"
