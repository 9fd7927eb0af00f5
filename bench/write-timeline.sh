#!/usr/bin/env bash
# Records, with perf, every socket write of a server and every read of
# herald-bench for a fraction of a second in the middle of a run, then
# prints the server's write passes (bursts of writes with no gap over
# 0.2 ms), the bench's publications, and how long each write waited for
# the bench to read it (per connection, matched through /proc/net/tcp).
# A tool for finding where latency accrues at fixed rates; see
# docs/benchmarks.md, "Load shapes beside uWebSockets". Needs root (perf
# tracepoints) and Linux perf.
#
#   bench/write-timeline.sh [--server herald|uws] [--herald PATH] [--record S] BENCH_ARGS...
#   (KEEP=1 keeps the perf data and events in a temporary folder)
#
# e.g. bench/write-timeline.sh --server herald --subscribers 1000 --rate 200
# Server on CPU 0, bench on CPU 1; loopback only; stops by itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
server=herald
herald="$root/build-release/apps/herald/herald"
bench="$root/build-release/apps/herald-bench/herald-bench"
record=0.3
while [[ $# -gt 0 ]]; do
  case $1 in
    --server) server=$2; shift 2 ;;
    --herald) herald=$2; shift 2 ;;
    --record) record=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
log() { printf 'write-timeline: %s\n' "$*" >&2; }
# shellcheck source=bench/server-control.sh
source bench/server-control.sh
out=$(mktemp -d)
port=$(free_port)
if [[ $server == uws ]]; then
  [[ -x ${UWS_BROADCAST:-} ]] || { log "set UWS_BROADCAST (see bench/start-peer.sh)"; exit 2; }
  taskset -c 0 "$UWS_BROADCAST" "$port" >/dev/null 2>&1 &
else
  taskset -c 0 "$herald" --port "$port" --address 127.0.0.1 --workers 1 \
    --max-connections 19000 --log-level error >/dev/null 2>&1 &
fi
server_pid=$!
wait_for_port "$port"
taskset -c 1 "$bench" --url "ws://127.0.0.1:$port/ws" --server-pid "$server_pid" --quiet --json \
  --warmup 1 --duration 3 "$@" >"$out/bench.json" &
bench_pid=$!
sleep 2.2  # connected, settled, publishing
perf record -a -e syscalls:sys_enter_sendmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom \
  -o "$out/perf.data" -- sleep "$record" >/dev/null 2>&1
/usr/bin/python3 - "$server_pid" "$bench_pid" >"$out/fds.txt" <<'PY'
import os, sys
for pid in sys.argv[1:]:
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            print(pid, fd, target[8:-1])
PY
cp /proc/net/tcp "$out/tcp.txt"
wait "$bench_pid"
traced_server=$server_pid
stop_server
perf script -i "$out/perf.data" -F pid,time,event,trace >"$out/events.txt" 2>/dev/null
/usr/bin/python3 - "$traced_server" "$bench_pid" "$out" <<'PY'
import bisect, json, re, sys
server, bench, out = sys.argv[1], sys.argv[2], sys.argv[3]
inode = {}
for line in open(f"{out}/fds.txt"):
    pid, fd, node = line.split()
    inode[(pid, int(fd))] = node
ports = {}
for line in open(f"{out}/tcp.txt").readlines()[1:]:
    f = line.split()
    ports[f[9]] = (int(f[1].split(":")[1], 16), int(f[2].split(":")[1], 16))
bench_fd = {ports[n]: fd for (pid, fd), n in inode.items() if pid == bench and n in ports}
peer = {}
for (pid, fd), n in inode.items():
    if pid == server and n in ports:
        local, remote = ports[n]
        if (remote, local) in bench_fd:
            peer[fd] = bench_fd[(remote, local)]
writes, reads, publications = [], {}, []
pattern = re.compile(r"\s*(\d+)\s+([\d.]+):\s+syscalls:sys_enter_(\w+):\s+fd: (0x[0-9a-f]+)")
for line in open(f"{out}/events.txt"):
    m = pattern.match(line)
    if not m:
        continue
    pid, t, call, fd = m.group(1), float(m.group(2)), m.group(3), int(m.group(4), 16)
    if pid == server and call in ("sendmsg", "sendto"):
        writes.append((t, fd))
    elif pid == bench and call == "recvfrom":
        reads.setdefault(fd, []).append(t)
    elif pid == bench and call == "sendto":
        publications.append(t)
if not writes:
    sys.exit("write-timeline: no server writes recorded")
start = writes[0][0]
passes, first, last, count = [], writes[0][0], writes[0][0], 0
for t, _ in writes:
    if t - last > 0.0002:
        passes.append((first, last, count))
        first, count = t, 0
    last, count = t, count + 1
passes.append((first, last, count))
print("passes (start ms, end ms, writes):")
for a, b, n in passes:
    print(f"  {(a - start) * 1e3:8.2f} {(b - start) * 1e3:8.2f} {n:6d}")
print("bench sends (ms):", " ".join(f"{(t - start) * 1e3:.1f}" for t in publications))
lags = []
for t, fd in writes:
    fd_b = peer.get(fd)
    if fd_b in reads:
        times = reads[fd_b]
        i = bisect.bisect_left(times, t)
        if i < len(times):
            lags.append((times[i] - t) * 1e3)
lags.sort()
if lags:
    pick = lambda q: lags[min(len(lags) - 1, int(len(lags) * q))]
    print(f"write -> bench read, ms: p50 {pick(0.5):.3f} p90 {pick(0.9):.3f} p99 {pick(0.99):.3f}"
          f" ({len(lags)} of {len(writes)} writes matched)")
report = json.load(open(f"{out}/bench.json"))
print("bench latency us:", report["latency_us"])
PY
if [[ -n ${KEEP:-} ]]; then
  log "kept the trace in $out"
else
  rm -rf "$out"
fi
