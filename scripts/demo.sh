#!/usr/bin/env bash
# Set everything up, then run the guided demo (`dockyard demo`). Extra arguments go to the demo.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash "$repo/scripts/setup.sh"
printf '\n==> dockyard demo\n'
exec "$repo/.venv/bin/dockyard" demo "$@"
