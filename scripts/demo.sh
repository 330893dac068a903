#!/usr/bin/env bash
# Runs conn-check against local demo servers that demo/demo.mjs starts (HTTP, HTTPS, TLS, TCP,
# UDP, Redis). Light on purpose: it installs only what the demo uses (Node.js, openssl,
# redis-server) when missing, and runs the committed bundle (dist/) — no `npm ci`, no build,
# nothing written inside the clone. The exit status is conn-check's: 2, since some of the demo's
# checks fail on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

node_ok() {
  command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)'
}
missing=()
node_ok || missing+=(nodejs)
command -v openssl >/dev/null || missing+=(openssl)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "demo: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! node_ok; then
  echo "demo: conn-check needs Node.js 20.19 or later; this machine has $(node --version 2>/dev/null || echo none)." >&2
  echo "      Install a newer one (https://nodejs.org/en/download) and run this again." >&2
  exit 3
fi
if [ ! -f dist/cli/index.js ]; then
  echo "demo: dist/cli/index.js is missing (it is committed; run 'npm ci && npm run build' on a modified tree)" >&2
  exit 3
fi
exec node demo/demo.mjs
