#!/usr/bin/env bash
# The whole check, as CI runs it: setup, lint, types, tests with a coverage gate.
# Never skips for want of Docker: if the engine cannot be had, setup fails and so does this.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k images -x`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bin="$repo/.venv/bin"

step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash "$repo/scripts/setup.sh"

step "test-only system packages"
# command:package pairs. git: integration tests drive real repositories; nvim: the Neovim plugin e2e test.
test_tools=(git:git nvim:neovim)
missing=()
for pair in "${test_tools[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test: install these system packages first: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "present: ${test_tools[*]%%:*}"

step "ruff check ."
"$bin/ruff" check .

step "mypy --strict (dockyard.protocol, dockyard.server)"
bash "$repo/scripts/typecheck.sh"

step "VS Code extension: build, package, unit + real-daemon tests"
DOCKYARD_SKIP_SETUP=1 bash "$repo/scripts/test-vscode.sh"

step "pytest (coverage gate 80% over dockyard.protocol + dockyard.server)"
set +e
"$bin/python" -m pytest -q --cov=dockyard.protocol --cov=dockyard.server --cov-report=term \
  --cov-fail-under=80 tests "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test: pytest collected no tests; that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
