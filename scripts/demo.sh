#!/usr/bin/env bash
# Sets up (dependencies, bundle) and runs conn-check against local demo servers it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -f dist/cli/index.js ] || npm run --silent build
node demo/demo.mjs
