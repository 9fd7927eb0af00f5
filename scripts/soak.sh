#!/usr/bin/env bash
# A soak of the Release server on loopback: scripts/soak.py's mix of churn,
# publishes, recovery, presence, history, join/leave storms, API calls and a
# /ws bystander for MINUTES (default 30), then its checks (steady readers saw
# every publication, the bystander never waited over a second, RSS flat
# after the first minute). Not part of scripts/test.sh: it runs for minutes.
#   scripts/soak.sh [MINUTES] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
out="${2:-build-release/soak}"
BUILD_DIR=build-release BUILD_TYPE=Release scripts/build.sh -DHERALD_BUILD_TESTS=OFF
mkdir -p "$out"
config="$out/soak.ini"
cat >"$config" <<'INI'
[global]
allow-anonymous = true
workers = 2

[namespaces.chat]
allow-subscribe-for-client = true
allow-subscribe-for-anonymous = true
allow-publish-for-subscriber = true
allow-publish-for-anonymous = true
allow-publish-for-client = true
presence = true
join-leave = true
allow-presence-for-subscriber = true
allow-presence-for-anonymous = true
history-size = 1000
history-ttl = 600s
allow-history-for-subscriber = true
allow-history-for-anonymous = true
allow-recovery = true
INI
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build-release/apps/herald/herald --config-file="$config" --port="$port" --address=127.0.0.1 \
  --static-dir=public >"$out/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
echo "soak: $minutes minutes against pid $server on port $port; results in $out"
status=0
/usr/bin/python3 scripts/soak.py "$port" "$minutes" "$server" | tee "$out/result.json" || status=$?
if ! kill -0 "$server" 2>/dev/null; then
  echo "soak: the server died" >&2
  status=1
fi
curl -s "http://127.0.0.1:$port/metrics" >"$out/metrics.txt" || true
exit "$status"
