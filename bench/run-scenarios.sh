#!/usr/bin/env bash
# Runs the benchmark scenarios S1-S5 against Herald and the peer servers,
# side by side in one run, and writes every measurement as one JSON line to
# OUT/results.jsonl plus a markdown summary (medians) to OUT/summary.md.
#
#   bench/run-scenarios.sh [--runs N] [--duration S] [--scenarios S1,S2,...]
#                          [--servers herald,herald-tls,websocketpp,node-ws,go-tutorial,uws]
#                          [--baseline PATH] [--out DIR] [--sweep] [--compression]
#
# --baseline PATH measures another Herald binary (an earlier build, say) as
# server "herald-baseline", run by run beside the current one, in every
# scenario Herald is in: a before/after comparison from one run.
# Server "herald-tls" is the same binary with a throwaway certificate (made
# with openssl in OUT), measured over wss:// with herald-bench's TLS client:
# --servers herald,herald-tls gives TLS against plain, run by run. Each run
# measures every server in turn (not all runs of one server, then the next).
#
# Scenarios (server pinned to CPU 0, herald-bench to CPU 1, unless stated):
#   S1 fan-out:        1000 subscribers, 1 publisher, 64 B, max rate
#   S2 publishers:     100 subscribers + 10 publishers, 512 B, max rate
#   S3 latency:        1000 subscribers, 50 messages/s
#   S4 idle memory:    10,000 idle connections, server RSS per connection
#   S5 workers:        Herald only, S1's shape, workers=1 vs workers=2, no pinning
#   S6 client protocol: Herald only, S1's shape over /connection/websocket
#                      (Centrifugo's protocol; the peers do not speak it)
# Max rate means each publisher keeps --inflight (default 64) of its own
# messages in flight.
#
# --sweep measures load shapes other than the closed loop at 64 in flight
# (scenarios SW-inflight, SW-read, SW-rate; servers herald,uws unless
# --servers says otherwise), 1000 subscribers and 64 B unless stated:
#   SW-inflight: --inflight 1, 4, 16, 64
#   SW-read:     subscribers that read at most every 200 us, --inflight 16;
#                and S2's shape (100 + 10 publishers, 512 B) read the same way
#   SW-rate:     fixed --rate 50, 200, 1000, 2000, 5000 publications/s
# --compression measures permessage-deflate (scenarios CZ-rate, CZ-idle;
# servers herald,herald-deflate,node-ws,node-ws-deflate unless --servers
# says otherwise). "herald-deflate" is Herald with compression = true and
# "node-ws-deflate" ws with perMessageDeflate (compressing per connection);
# herald-bench offers the extension to both (--compression) and to nobody
# else. 1000 subscribers, 2048 B of market-data-like text (--filler ticker):
#   CZ-rate: fixed --rate 2 and 50 publications/s (ws compressing per
#            connection cannot keep up with much more on one core)
#   CZ-idle: S4's 10,000 idle connections, with the extension negotiated
# Server "uws" is a uWebSockets broadcast server taken from
# UWS_BROADCAST (see bench/start-peer.sh); nothing here builds it. Builds Herald and herald-bench (Release, build-release/)
# and the peers (bench/setup-peers.sh) first. Loopback only; every run stops
# by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

runs=3
duration=10
baseline=
sweep=
compression=
scenarios=
servers=
out="$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ)"
while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --sweep) sweep=1; shift ;;
    --compression) compression=1; shift ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) echo "run-scenarios: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -n $sweep ]]; then
  scenarios=${scenarios:-SW-inflight,SW-read,SW-rate}
  servers=${servers:-herald,uws}
fi
if [[ -n $compression ]]; then
  scenarios=${scenarios:-CZ-rate,CZ-idle}
  servers=${servers:-herald,herald-deflate,node-ws,node-ws-deflate}
fi
scenarios=${scenarios:-S1,S2,S3,S4,S5,S6}
servers=${servers:-herald,websocketpp,node-ws,go-tutorial}
if [[ ,$servers, == *,uws,* && ! -x ${UWS_BROADCAST:-} ]]; then
  echo "run-scenarios: server uws needs UWS_BROADCAST (see bench/start-peer.sh)" >&2
  exit 2
fi
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"

BUILD_DIR=build-release BUILD_TYPE=Release scripts/build.sh -DHERALD_BUILD_TESTS=OFF
herald="$root/build-release/apps/herald/herald"
bench="$root/build-release/apps/herald-bench/herald-bench"
if [[ ,$servers, == *,websocketpp,* || ,$servers, == *,node-ws* || ,$servers, == *,go-tutorial,* ]]; then
  bench/setup-peers.sh >/dev/null
fi
ulimit -n "$(ulimit -Hn)"

log() { printf 'run-scenarios: %s\n' "$*" >&2; }

server_port=
# shellcheck source=bench/server-control.sh
source bench/server-control.sh

# start_server NAME CPUS WORKERS: sets server_pid and server_port. Herald
# gets the extra flags in herald_args.
herald_args=()
start_server() {
  local name=$1 cpus=$2 workers=$3
  local pin=()
  [[ -n $cpus ]] && pin=(taskset -c "$cpus")
  server_port=$(free_port)
  if [[ $name == herald || $name == herald-baseline || $name == herald-tls ||
        $name == herald-deflate ]]; then
    local binary=$herald tls=() deflate=()
    [[ $name == herald-baseline ]] && binary=$baseline
    [[ $name == herald-tls ]] && tls=(--tls-cert "$out/tls/server.pem" --tls-key "$out/tls/server.key")
    [[ $name == herald-deflate ]] && deflate=(--compression true)
    "${pin[@]}" "$binary" --port "$server_port" --address 127.0.0.1 \
      --static-dir "$root/public" --workers "$workers" --max-connections 19000 \
      "${tls[@]}" "${deflate[@]}" "${herald_args[@]}" >"$out/server.log" 2>&1 &
  else
    "${pin[@]}" bench/start-peer.sh "$name" "$server_port" >"$out/server.log" 2>&1 &
  fi
  server_pid=$!
  wait_for_port "$server_port"
}

# measure LABEL SERVERS CPUS WORKERS BENCH_CPUS BENCH_ARGS...
# SERVERS is a comma-separated list; each run measures them in turn, so
# servers compared side by side share the machine's moods run by run.
measure() {
  local label=$1 names=$2 cpus=$3 workers=$4 bench_cpus=$5
  shift 5
  local pin=() name
  [[ -n $bench_cpus ]] && pin=(taskset -c "$bench_cpus")
  for run in $(seq "$runs"); do
    for name in ${names//,/ }; do
      start_server "$name" "$cpus" "$workers"
      log "$label $name run $run/$runs"
      local scheme=ws tls=() deflate=()
      [[ $name == herald-tls ]] && scheme=wss tls=(--tls-ca "$out/tls/server.pem" --tls-server-name localhost)
      [[ $name == *-deflate ]] && deflate=(--compression)
      "${pin[@]}" "$bench" --url "$scheme://127.0.0.1:$server_port$path" --server-pid "$server_pid" \
        --label "$label" --json "${tls[@]}" "${deflate[@]}" "$@" \
        | /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(server=sys.argv[1], workers=int(sys.argv[2]), run=int(sys.argv[3])); print(json.dumps(r))' \
          "$name" "$workers" "$run" >>"$results" || log "$label $name run $run failed"
      stop_server
    done
  done
}

if [[ ,$servers, == *,herald-tls,* ]]; then
  # A self-signed certificate for localhost, ECDSA P-256 as most ACME
  # deployments now get; herald-bench verifies against it.
  mkdir -p "$out/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$out/tls/server.key" -out "$out/tls/server.pem" 2>/dev/null
fi

path=/ws
heralds=herald
[[ ,$servers, == *,herald-tls,* ]] && heralds=herald,herald-tls
if [[ -n $baseline ]]; then
  [[ -x $baseline ]] || { log "--baseline $baseline is not an executable"; exit 2; }
  heralds=$heralds,herald-baseline
  [[ ,$servers, == *,herald,* ]] && servers=${servers/herald/herald,herald-baseline}
fi
for scenario in ${scenarios//,/ }; do
  case $scenario in
    S1) measure S1 "$servers" 0 1 1 --subscribers 1000 --publishers 1 --size 64 --rate 0 \
          --warmup 2 --duration "$duration" ;;
    S2) measure S2 "$servers" 0 1 1 --subscribers 100 --publishers 10 --size 512 --rate 0 \
          --warmup 2 --duration "$duration" ;;
    S3) measure S3 "$servers" 0 1 1 --subscribers 1000 --publishers 1 --size 64 --rate 50 \
          --warmup 2 --duration "$duration" ;;
    S4) measure S4 "$servers" 0 1 1 --idle --subscribers 10000 --settle 2 --duration 1 \
          --connect-concurrency 200 ;;
    S5)
      for workers in 1 2; do
        measure "S5 workers=$workers" "$heralds" "" "$workers" "" --subscribers 1000 \
          --publishers 1 --size 64 --rate 0 --warmup 2 --duration "$duration"
      done ;;
    S6)
      path=/connection/websocket
      # Anonymous clients that subscribe and publish, as a chat namespace
      # would allow them (Herald's channel defaults are Centrifugo's: off).
      herald_args=(--allow-anonymous=true --allow-subscribe-for-client=true
        --allow-subscribe-for-anonymous=true --allow-publish-for-subscriber=true
        --allow-publish-for-anonymous=true)
      measure S6 "$heralds" 0 1 1 --protocol centrifuge --subscribers 1000 --publishers 1 \
        --size 64 --rate 0 --warmup 2 --duration "$duration"
      path=/ws
      herald_args=() ;;
    SW-inflight)
      for inflight in 1 4 16 64; do
        measure "sweep inflight=$inflight" "$servers" 0 1 1 --subscribers 1000 --publishers 1 \
          --size 64 --rate 0 --inflight "$inflight" --warmup 2 --duration "$duration"
      done ;;
    SW-read)
      measure "sweep read=200us inflight=16" "$servers" 0 1 1 --subscribers 1000 --publishers 1 \
        --size 64 --rate 0 --inflight 16 --read-interval-us 200 --warmup 2 --duration "$duration"
      measure "sweep read=200us S2" "$servers" 0 1 1 --subscribers 100 --publishers 10 \
        --size 512 --rate 0 --read-interval-us 200 --warmup 2 --duration "$duration" ;;
    SW-rate)
      for rate in 50 200 1000 2000 5000; do
        measure "sweep rate=$rate" "$servers" 0 1 1 --subscribers 1000 --publishers 1 \
          --size 64 --rate "$rate" --warmup 2 --duration "$duration"
      done ;;
    CZ-rate)
      for rate in 2 50; do
        measure "compression rate=$rate" "$servers" 0 1 1 --subscribers 1000 --publishers 1 \
          --size 2048 --filler ticker --rate "$rate" --warmup 2 --duration "$duration"
      done ;;
    CZ-idle)
      measure "compression idle" "$servers" 0 1 1 --idle --subscribers 10000 --settle 2 \
        --duration 1 --connect-concurrency 200 ;;
    *) log "unknown scenario $scenario"; exit 2 ;;
  esac
done

/usr/bin/python3 bench/summarize.py "$results" >"$out/summary.md"
cat "$out/summary.md"
log "results in $out"
