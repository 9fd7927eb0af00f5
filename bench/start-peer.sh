#!/usr/bin/env bash
# bench/start-peer.sh NAME PORT
#   NAME: go-tutorial | node-ws | node-ws-deflate | websocketpp | uws
# Runs that peer in the foreground on ws://127.0.0.1:PORT/ws. node-ws-deflate
# is node-ws with ws's permessage-deflate on (PERMESSAGE_DEFLATE=1: context
# takeover, messages of 1 KiB and more compressed per client), the peer for
# herald-bench --compression. The script
# execs the server, so the PID a caller gets (e.g. $! after
# `taskset -c 0 bench/start-peer.sh go-tutorial 9001 &`) is the server
# process itself and /proc/PID/stat holds the server's CPU time.
# Run bench/setup-peers.sh first. uws is a uWebSockets broadcast server
# that is not built here (it is neither a Debian nor an npm package): set
# UWS_BROADCAST to a binary that takes PORT and serves /ws on
# 127.0.0.1 with the tutorial's contract (every message to every client).
# (Not HERALD_*: Herald reads those as its configuration.)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() { echo "usage: $0 {go-tutorial|node-ws|node-ws-deflate|websocketpp|uws} PORT" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
name=$1 port=$2
[[ $port =~ ^[0-9]+$ ]] || usage

# Many benchmark connections: lift the soft fd limit to the hard one (Go
# does this itself; node and websocketpp do not).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

need() { [[ -e $1 ]] || { echo "$0: $1 missing; run bench/setup-peers.sh" >&2; exit 1; }; }

case $name in
    go-tutorial)
        need "$here/.build/go-tutorial"
        exec "$here/.build/go-tutorial" -host 127.0.0.1 -port "$port" \
            -static "$here/../public" ;;
    node-ws | node-ws-deflate)
        need "$here/peers/node-ws/node_modules/ws/package.json"
        # The name alone decides, whatever the caller's environment holds.
        deflate=0
        [[ $name == node-ws-deflate ]] && deflate=1
        PERMESSAGE_DEFLATE=$deflate exec node "$here/peers/node-ws/server.js" "$port" ;;
    websocketpp)
        need "$here/.build/websocketpp-broadcast"
        exec "$here/.build/websocketpp-broadcast" "$port" 127.0.0.1 ;;
    uws)
        [[ -x ${UWS_BROADCAST:-} ]] || {
            echo "$0: set UWS_BROADCAST to a uWebSockets broadcast server binary" >&2
            exit 1
        }
        exec "$UWS_BROADCAST" "$port" ;;
    *) usage ;;
esac
