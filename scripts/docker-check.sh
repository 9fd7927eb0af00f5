#!/usr/bin/env bash
# Builds docker/Dockerfile with podman and checks the image end to end:
#   /health answers 200, / serves the chat page, /ws broadcasts between two
#   clients, the HEALTHCHECK passes, and a stop (SIGTERM) closes /ws clients
#   with 1001 and exits 0 well before the kill timeout. Then a cluster as
#   docker/compose.yaml runs it: Redis (docker/redis.Dockerfile) and two
#   Herald nodes with engine = redis; a message sent on one node reaches a
#   client of the other.
#
# Needs root and Debian's apt (podman, runc, debootstrap are installed when
# missing). No Docker engine and no registry are needed: when the image
# docker.io/library/debian:bookworm-slim is not in podman's store, it is made
# with debootstrap from the apt mirror this machine uses, once, and then reused.
#
#   scripts/docker-check.sh              build and check
#   scripts/docker-check.sh --base-only  only make sure the base image exists
#
# Environment: HERALD_CHECK_IMAGE (herald:check), HERALD_CHECK_CACHE
# (/var/cache/herald-docker-check), HERALD_CHECK_KEEP_IMAGE=1 keeps the image.
set -euo pipefail

cd "$(dirname "$0")/.."

BASE_IMAGE=docker.io/library/debian:bookworm-slim
IMAGE=${HERALD_CHECK_IMAGE:-herald:check}
CACHE=${HERALD_CHECK_CACHE:-/var/cache/herald-docker-check}
STOP_TIMEOUT=10       # seconds podman waits after SIGTERM before SIGKILL
STOP_LIMIT=5          # a stop must take less than this many seconds
PY=/usr/bin/python3   # Debian's python3 (python3-websockets); not a pyenv shim

t_start=$SECONDS
declare -a timings=()
step_start=$SECONDS
log() { printf 'docker-check: %s\n' "$*"; }
fail() { printf 'docker-check: FAIL: %s\n' "$*" >&2; exit 1; }
mark() { timings+=("$(printf '%-22s %4ds' "$1" $((SECONDS - step_start)))"); step_start=$SECONDS; }

# --- tools -------------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v curl >/dev/null || need+=(curl)
[[ -x /usr/libexec/podman/catatonit ]] || need+=(catatonit)
"$PY" -c 'import websockets' 2>/dev/null || need+=(python3 python3-websockets)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
mark "tools"

mkdir -p "$CACHE"
cat >"$CACHE/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$CACHE/containers.conf"

# --- base image ---------------------------------------------------------------
# The apt mirror for "bookworm ... main" from /etc/apt/sources.list.d/ (deb822
# .sources or one-line .list files), then /etc/apt/sources.list.
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk '
      function flush() {
        if (uris != "" && enabled && (" " suites " ") ~ / bookworm / && (" " comps " ") ~ / main /) {
          split(uris, u, " "); print u[1]; found = 1; exit
        }
        uris = ""; suites = ""; comps = ""; enabled = 1
      }
      BEGIN { enabled = 1 }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "uris:"       { $1 = ""; uris = $0 }
      tolower($1) == "suites:"     { $1 = ""; suites = $0 }
      tolower($1) == "components:" { $1 = ""; comps = $0 }
      tolower($1) == "enabled:"    { enabled = (tolower($2) != "no") }
      END { if (!found) flush() }
    ' "$f" | head -n 1
  done
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
    [[ -f $f ]] || continue
    # deb [options] URI bookworm main ...
    awk '$1 == "deb" {
           i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
           if ($(i + 1) == "bookworm") { for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit } }
         }' "$f"
  done
}

if podman image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE present (cached)"
else
  mirror=$(find_mirror | head -n 1)
  [[ -n $mirror ]] || fail "no apt source for 'bookworm main' in /etc/apt/sources.list.d/"
  log "bootstrapping $BASE_IMAGE from $mirror (debootstrap, once)"
  rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  # Carry this machine's apt validity settings (a snapshot mirror's Release
  # files may be past Valid-Until) so apt-get inside the image works the same.
  apt-config dump | grep -E '^Acquire::Check-(Valid-Until|Date) ' \
    >"$rootfs/etc/apt/apt.conf.d/99docker-check" || true
  # Like the official slim image: no downloaded packages or lists kept.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
         "$rootfs"/var/lib/apt/lists/* \
         "$rootfs"/var/log/* "$rootfs"/tmp/*
  tar --numeric-owner -C "$rootfs" -c . | podman import --quiet - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
  log "base image $BASE_IMAGE imported"
fi
mark "base image"
[[ ${1:-} == --base-only ]] && { log "base image ready"; exit 0; }

# --- build ---------------------------------------------------------------------
log "building $IMAGE (podman build -f docker/Dockerfile .)"
build_log="$CACHE/build.log"
old_id=$(podman image inspect "$IMAGE" --format '{{.Id}}' 2>/dev/null || true)
# A machine whose TLS to the npm registry goes through an inspecting proxy
# trusts that proxy's CA through NODE_EXTRA_CA_CERTS; the build's npm ci
# needs it too (mounted for the build only, never in the image).
extra_ca=()
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f $NODE_EXTRA_CA_CERTS ]]; then
  extra_ca=(--volume "$NODE_EXTRA_CA_CERTS:/run/build-extra-ca.crt:ro"
            --build-arg NODE_EXTRA_CA_CERTS=/run/build-extra-ca.crt)
fi
# --format docker keeps the HEALTHCHECK (OCI image configs have no field for it).
if ! podman build --format docker --network host --pull=never "${extra_ca[@]}" \
       -f docker/Dockerfile -t "$IMAGE" . >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  fail "podman build failed (log: $build_log)"
fi
awk '/^runtime packages:/ { on = 1; print "  " $0; next }
     on && /^(STEP|-->|COMMIT|\[)/ { on = 0 }
     on { print "    " $0 }' "$build_log"
# The previous herald:check is now untagged: drop it (the builder stage's
# layers stay cached for the next run).
if [[ -n $old_id && $old_id != "$(podman image inspect "$IMAGE" --format '{{.Id}}')" ]]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true
fi
mark "image build"
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
log "image $IMAGE: $((size / 1000000)) MB"

# --- run -------------------------------------------------------------------------
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
name="herald-check-$$"
ws_log=$(mktemp)
cleanup() {
  podman rm -f -t 0 "$name" "$name-redis" "$name-a" "$name-b" >/dev/null 2>&1 || true
  [[ -z ${ws_pid:-} ]] || kill "$ws_pid" 2>/dev/null || true
  [[ ${HERALD_CHECK_KEEP_IMAGE:-1} == 1 ]] || podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
  rm -f "$ws_log"
}
trap cleanup EXIT

# Without systemd, podman logs errors about healthcheck timers; they are
# harmless (the check below runs the HEALTHCHECK by hand), so they go to a file.
podman_err="$CACHE/podman-run.log"
podman run -d --name "$name" --init -p "127.0.0.1:$port:8000" "$IMAGE" >/dev/null 2>"$podman_err" \
  || { cat "$podman_err" >&2; fail "podman run failed"; }
log "container $name on 127.0.0.1:$port"

url="http://127.0.0.1:$port"
deadline=$((SECONDS + 30))
until [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null) == 200 ]]; do
  if [[ $(podman inspect "$name" --format '{{.State.Running}}') != true ]]; then
    podman logs "$name" >&2 || true
    fail "container exited before /health answered"
  fi
  ((SECONDS < deadline)) || { podman logs "$name" >&2 || true; fail "/health not 200 within 30 s"; }
  sleep 0.2
done
mark "start to /health 200"
podman logs "$name" 2>&1 | grep -q 'herald: listening on' \
  || log "warning: no 'herald: listening on' line in the container's log"

body=$(curl -fsS "$url/health") || fail "GET /health"
log "GET /health -> 200 $body"

curl -fsS "$url/" | grep -q 'data-herald-chat' || fail "GET / does not serve the chat page"
for f in chat.js chat.css favicon.svg; do
  curl -fsS -o /dev/null "$url/$f" || fail "GET /$f"
done
log "GET / serves the chat page (and chat.js, chat.css, favicon.svg)"
# The dashboard's page and the libraries setup fetched from npm into
# public/vendor/, which the image must carry (they are not in the context).
for f in dashboard.html dashboard.js vendor/centrifuge.js vendor/uPlot.iife.min.js \
         vendor/uPlot.min.css; do
  curl -fsS -o /dev/null "$url/$f" || fail "GET /$f"
done
log "GET /dashboard.html and its npm libraries (vendor/centrifuge.js, vendor/uPlot.*)"

podman healthcheck run "$name" >/dev/null || fail "the image's HEALTHCHECK fails"
log "HEALTHCHECK passes"

# Two /ws clients: one sends, both receive. A third stays connected to see how
# the stop closes it.
"$PY" - "$port" <<'EOF' || fail "/ws broadcast"
import asyncio, json, sys, websockets

async def main(port):
    uri = f"ws://127.0.0.1:{port}/ws"
    async with websockets.connect(uri) as a, websockets.connect(uri) as b:
        text = "docker-check \u00e9\u00e8 <b>&</b>"
        await a.send(json.dumps({"message": text}))
        for who, ws in (("sender", a), ("other", b)):
            got = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert got == {"message": text}, (who, got)
    print("docker-check: /ws broadcast between two clients OK")

asyncio.run(main(int(sys.argv[1])))
EOF

"$PY" - "$port" >"$ws_log" 2>&1 <<'EOF' &
import asyncio, sys, websockets

async def main(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
        print("connected", flush=True)
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 20)
        except websockets.ConnectionClosed as e:
            print(f"closed {e.rcvd.code if e.rcvd else 'none'}", flush=True)

asyncio.run(main(int(sys.argv[1])))
EOF
ws_pid=$!
for _ in $(seq 50); do grep -q connected "$ws_log" && break; sleep 0.1; done
grep -q connected "$ws_log" || fail "a /ws client could not connect before the stop"
mark "page, health, /ws"

# --- stop ------------------------------------------------------------------------
log "stopping (SIGTERM, kill after ${STOP_TIMEOUT}s)"
stop_t0=$(date +%s.%N)
podman stop -t "$STOP_TIMEOUT" "$name" >/dev/null 2>>"$podman_err" \
  || { cat "$podman_err" >&2; fail "podman stop"; }
stop_s=$(awk -v a="$stop_t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
mark "stop"
wait "$ws_pid" || true; ws_pid=""
exit_code=$(podman inspect "$name" --format '{{.State.ExitCode}}')
podman logs "$name" >"$CACHE/container.log" 2>&1 || true
log "podman stop took ${stop_s}s; exit code $exit_code; /ws client: $(tail -n 1 "$ws_log")"
[[ $exit_code == 0 ]] || { tail -n 20 "$CACHE/container.log" >&2; fail "container exited with $exit_code, not 0"; }
awk -v s="$stop_s" -v l="$STOP_LIMIT" 'BEGIN { exit !(s < l) }' || fail "stop took ${stop_s}s (limit ${STOP_LIMIT}s of the ${STOP_TIMEOUT}s timeout)"
grep -q '^closed 1001$' "$ws_log" || fail "/ws client not closed with 1001 on shutdown ($(tail -n 1 "$ws_log"))"

# --- cluster -----------------------------------------------------------------------
# Host networking and loopback ports: no podman network (nor its DNS) needed.
log "building herald-redis:check (podman build -f docker/redis.Dockerfile docker)"
podman build --format docker --network host --pull=never -f docker/redis.Dockerfile \
  -t herald-redis:check docker >"$CACHE/redis-build.log" 2>&1 \
  || { tail -n 20 "$CACHE/redis-build.log" >&2; fail "podman build of the Redis image failed"; }
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port); port_a=$(free_port); port_b=$(free_port)
podman run -d --name "$name-redis" --init --network host herald-redis:check \
  --bind 127.0.0.1 --port "$redis_port" >/dev/null 2>>"$podman_err" \
  || { cat "$podman_err" >&2; fail "podman run (redis)"; }
for node in a b; do
  node_port=$port_a; [[ $node == b ]] && node_port=$port_b
  podman run -d --name "$name-$node" --init --network host \
    -e HERALD_ADDRESS=127.0.0.1 -e HERALD_PORT="$node_port" -e HERALD_ENGINE=redis \
    -e HERALD_REDIS_ADDRESS="127.0.0.1:$redis_port" -e HERALD_NODE_NAME="herald-$node" \
    "$IMAGE" >/dev/null 2>>"$podman_err" || { cat "$podman_err" >&2; fail "podman run (node $node)"; }
done
for node_port in "$port_a" "$port_b"; do
  deadline=$((SECONDS + 30))
  until curl -fsS "http://127.0.0.1:$node_port/metrics" 2>/dev/null | grep -q '^herald_engine_up 1$'; do
    ((SECONDS < deadline)) || { podman logs "$name-a" >&2 || true; fail "node on $node_port: engine not up within 30 s"; }
    sleep 0.2
  done
done
log "redis on 127.0.0.1:$redis_port, nodes on $port_a and $port_b, both engines up"
"$PY" - "$port_a" "$port_b" <<'EOF' || { podman logs "$name-a" >&2 || true; fail "a message across the two nodes"; }
import asyncio, json, sys, websockets

async def main(port_a, port_b):
    async with websockets.connect(f"ws://127.0.0.1:{port_a}/ws") as a, \
               websockets.connect(f"ws://127.0.0.1:{port_b}/ws") as b:
        await asyncio.sleep(0.5)  # a node's first subscriber makes it subscribe in Redis
        for sender, receiver, text in ((a, b, "from a"), (b, a, "from b")):
            await sender.send(json.dumps({"message": text}))
            for ws in (receiver, sender):
                got = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert got == {"message": text}, got
    print("docker-check: /ws messages cross the two nodes both ways")

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
EOF
podman rm -f -t 5 "$name-a" "$name-b" "$name-redis" >/dev/null 2>&1 || true
mark "cluster of two"

# --- summary -----------------------------------------------------------------------
echo "docker-check: timings"
printf '  %s\n' "${timings[@]}"
printf '  %-22s %4ds\n' total $((SECONDS - t_start))
echo "docker-check: OK"
