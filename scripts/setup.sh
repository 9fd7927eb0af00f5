#!/usr/bin/env bash
# Installs everything Herald needs to build and run (and, with --test, to run
# its tests) from Debian 12's packages. Idempotent: apt skips what is there.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libcaf-dev libboost1.81-dev libboost-json1.81-dev libjwt-dev libhiredis-dev libssl-dev
  libspdlog-dev zlib1g-dev
)
# The dashboard's browser libraries (web/: the centrifuge SDK, uPlot) come
# from npm; a machine that has node and npm already (e.g. from nodesource)
# keeps them.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
# The Redis engine's tests start Debian's redis-server themselves (on free
# loopback ports); the package's own service is not needed. The TLS tests
# make their certificates with the openssl command.
# The browser tests drive Debian's chromium with playwright-core (never a
# downloaded browser); certutil (libnss3-tools) gives it a test CA for https.
# clang alone does not bring the sanitizer and libFuzzer runtimes that
# scripts/fuzz.sh links against (they come with libclang-rt-14-dev, which
# is only a recommendation); clang-format checks the tree's formatting.
test_packages=(
  catch2 python3 python3-websockets python3-pytest curl procps openssl
  clang libclang-rt-14-dev clang-format
  redis-server
  chromium libnss3-tools
)

want=("${packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_packages[@]}")
fi

missing=()
for package in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
# The pages' browser libraries at the versions in web/package-lock.json,
# copied into public/vendor/ (not tracked), which the server serves with
# the pages.
(cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$root/public/vendor"
cp "$root/web/node_modules/centrifuge/dist/centrifuge.js" \
   "$root/web/node_modules/centrifuge/dist/centrifuge.js.map" \
   "$root/web/node_modules/uplot/dist/uPlot.iife.min.js" \
   "$root/web/node_modules/uplot/dist/uPlot.min.css" "$root/public/vendor/"
cp "$root/web/node_modules/centrifuge/LICENSE" "$root/public/vendor/centrifuge.LICENSE"
cp "$root/web/node_modules/uplot/LICENSE" "$root/public/vendor/uPlot.LICENSE"

if [[ "${1:-}" == "--test" ]]; then
  # The official centrifuge SDK for tests/sdk, at the versions in its lock file.
  (cd "$root/tests/sdk" && npm ci --no-audit --no-fund --loglevel=error)
  # playwright-core for tests/browser; it drives /usr/bin/chromium and must
  # never download a browser of its own.
  (cd "$root/tests/browser" &&
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
