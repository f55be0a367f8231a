#!/usr/bin/env bash
# Build, package and test the VS Code extension (client-vscode/). Exits non-zero on any failure.
#   bash scripts/test-vscode.sh
# Network: only the npm registry, during `npm ci`. The tests talk only to a local daemon
# ($DOCKYARD_SERVER, else .venv/bin/dockyard), which needs the engine and the test image: the project's
# idempotent scripts/setup.sh provides them (seconds when already done). DOCKYARD_SKIP_SETUP=1 skips it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
started=$(date +%s)
step() { printf '\n==> %s\n' "$*"; }

step "1/7 node and npm"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test-vscode: node (>= 20) and npm are missing; install them first" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "test-vscode: node >= 20 is needed (@vscode/vsce 3, vitest 3); found $(node --version)." >&2
  echo "  Debian 12's own nodejs package is 18: install Node 20 (e.g. the NodeSource package) and rerun." >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version)"

step "2/7 daemon for the integration test"
if [ -n "${DOCKYARD_SERVER:-}" ]; then
  echo "using DOCKYARD_SERVER=$DOCKYARD_SERVER"
elif [ "${DOCKYARD_SKIP_SETUP:-0}" = "1" ]; then
  echo "DOCKYARD_SKIP_SETUP=1: using $repo/.venv/bin/dockyard as it is"
else
  bash "$repo/scripts/setup.sh"
fi

cd "$repo/client-vscode"

step "3/7 npm dependencies"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

step "4/7 protocol types are current (src/protocol.generated.ts vs docs/protocol.schema.json)"
npm run --silent check:types

step "5/7 build (tsc --noEmit + esbuild bundle)"
npm run --silent build

step "6/7 package (.vsix)"
rm -f dockyard-vscode.vsix
npm run --silent package
test -s dockyard-vscode.vsix

step "7/7 tests (unit, integration against the real daemon, packaged manifest)"
npm test

printf '\n==> client-vscode: all green in %ss\n' "$(( $(date +%s) - started ))"
