#!/usr/bin/env bash
# The Neovim plugin's end-to-end test (tests/e2e/test_nvim.py): headless Neovim + the real daemon + Docker.
# Installs Debian's neovim (0.7.2 on bookworm) when `nvim` is missing (needs root and apt-get), then runs
# the test with the repository's venv. Needs what scripts/setup.sh provides: .venv and a running engine.
# DOCKYARD_NVIM=/path/to/nvim runs it against another Neovim; extra arguments go to pytest.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! command -v "${DOCKYARD_NVIM:-nvim}" >/dev/null 2>&1; then
  if [ -n "${DOCKYARD_NVIM:-}" ]; then
    echo "test-nvim: DOCKYARD_NVIM=$DOCKYARD_NVIM is not an executable" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "test-nvim: nvim is missing; install Neovim >= 0.7 (Debian: apt-get install neovim) or run this as root" >&2
    exit 1
  fi
  echo "test-nvim: installing neovim with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends neovim >/dev/null
fi
"${DOCKYARD_NVIM:-nvim}" --version | head -n 1

if [ ! -x "$repo/.venv/bin/pytest" ]; then
  echo "test-nvim: $repo/.venv/bin/pytest is missing; run: bash scripts/setup.sh" >&2
  exit 1
fi
exec "$repo/.venv/bin/pytest" -q tests/e2e/test_nvim.py "$@"
