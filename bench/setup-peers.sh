#!/usr/bin/env bash
# Installs and builds the peer servers for Herald's side-by-side benchmarks
# (bench/peers/*), all from Debian 12 and npm packages:
#   go-tutorial  -> bench/.build/go-tutorial            (golang-go 1.19, gorilla/websocket 1.5.0, GOPATH mode)
#   node-ws      -> bench/peers/node-ws/node_modules    (npm ci: ws, pinned in package-lock.json)
#   websocketpp  -> bench/.build/websocketpp-broadcast  (libwebsocketpp-dev 0.8.2, Boost 1.81 Asio, g++ -O2)
# Idempotent: packages are installed only when missing, binaries rebuilt only
# when their sources are newer, npm ci run only when the lock file changed.
# Needs root (apt-get) the first time. Not part of the Herald CMake build.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build="$here/.build"
mkdir -p "$build"

log() { printf 'setup-peers: %s\n' "$*"; }

# --- Debian packages -------------------------------------------------------
# libboost1.81-dev gives Boost.Asio for websocketpp (never unversioned
# libboost-*-dev). nodejs/npm: any Node >= 10 runs ws 8; the machine's Node
# (nodesource 20) is used when present, Debian's otherwise.
pkgs=(golang-go golang-github-gorilla-websocket-dev libwebsocketpp-dev
      libboost1.81-dev g++ util-linux python3 python3-websockets)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm  >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

# --- go-tutorial: Go + gorilla/websocket, GOPATH mode, no module downloads --
go_bin="$build/go-tutorial"
go_src="$here/peers/go-tutorial/main.go"
if [[ ! -x "$go_bin" || "$go_src" -nt "$go_bin" ]]; then
    log "building $go_bin"
    # Debian's golang-github-gorilla-websocket-dev installs the source under
    # /usr/share/gocode/src/github.com/gorilla/websocket.
    (cd "$here/peers/go-tutorial" &&
        env GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
            GOCACHE="$build/gocache" \
            go build -trimpath -o "$go_bin" .)
fi

# --- node-ws: npm ci (exact versions from package-lock.json) ---------------
nd="$here/peers/node-ws"
if [[ ! -f "$nd/node_modules/.package-lock.json" ||
      "$nd/package-lock.json" -nt "$nd/node_modules/.package-lock.json" ]]; then
    log "npm ci in $nd"
    (cd "$nd" && npm ci --no-audit --no-fund --ignore-scripts)
fi

# --- websocketpp: examples/broadcast_server shape ---------------------------
# -std=c++17: websocketpp 0.8.2 does not compile as C++20 (template-id
# constructors/destructors in endpoint.hpp, logger/basic.hpp); C++11..17
# compile cleanly against Boost 1.81's Asio with no patch.
wspp_bin="$build/websocketpp-broadcast"
wspp_src="$here/peers/websocketpp/broadcast_server.cpp"
if [[ ! -x "$wspp_bin" || "$wspp_src" -nt "$wspp_bin" ]]; then
    log "building $wspp_bin"
    g++ -std=c++17 -O2 -DNDEBUG -pthread -o "$wspp_bin.tmp" "$wspp_src"
    mv -f "$wspp_bin.tmp" "$wspp_bin"
fi

log "ready: $(go version | awk '{print $3}'), gorilla/websocket $(dpkg-query -W -f='${Version}' golang-github-gorilla-websocket-dev)," \
    "node $(node --version) ws $(node -p "require('$nd/node_modules/ws/package.json').version")," \
    "websocketpp $(dpkg-query -W -f='${Version}' libwebsocketpp-dev) + boost $(dpkg-query -W -f='${Version}' libboost1.81-dev)"
