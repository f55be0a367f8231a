#!/usr/bin/env bash
# mypy --strict on dockyard.protocol and dockyard.server.
# The distribution maps dockyard.protocol -> protocol/ and dockyard.server -> server/; mypy cannot see
# through setuptools' editable finder, so give it the same shape as a tree of symlinks under build/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tree="$repo/build/typecheck"
mkdir -p "$tree/dockyard"
ln -sfn "$repo/protocol" "$tree/dockyard/protocol"
ln -sfn "$repo/server" "$tree/dockyard/server"
cd "$tree"
exec "$repo/.venv/bin/mypy" --config-file "$repo/pyproject.toml" -p dockyard.protocol -p dockyard.server "$@"
