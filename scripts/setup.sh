#!/usr/bin/env bash
# Bring this checkout to a working state, idempotently: venv + package, a Docker engine, the images.
# Fine on a fresh Debian machine as root (installs what is missing) and on a laptop with Docker running.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
venv="$repo/.venv"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
apt_install() {
  [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || die "need the Debian package(s) $*: install them"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}

step "1/5 Python virtual environment (.venv)"
command -v python3 >/dev/null 2>&1 || apt_install python3
if "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "$venv exists"
else
  # Debian ships venv's ensurepip separately; a venv made without it has no pip: make it again.
  python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
  python3 -m venv --clear "$venv"
  echo "created $venv"
fi

# Whether the venv already holds an editable install of this checkout with every requirement of
# pyproject.toml (runtime + dev) satisfied; prints why not. Skipping pip then keeps reruns offline.
install_is_current() {
  "$venv/bin/python" -I - "$repo" <<'PY'  # -I: the checkout's own egg-info must not shadow the install
import json, sys, tomllib
from importlib import metadata
from pathlib import Path

repo = Path(sys.argv[1])
try:
    from packaging.requirements import Requirement
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    dist = metadata.distribution(project["name"])
except Exception as exc:  # not installed yet, or no packaging module
    sys.exit(f"not installed ({exc})")
origin = json.loads(dist.read_text("direct_url.json") or "{}")
if not origin.get("dir_info", {}).get("editable") or origin.get("url") != repo.as_uri():
    sys.exit("not an editable install of this checkout")
if dist.version != project["version"]:
    sys.exit(f"installed {dist.version}, pyproject says {project['version']}")
scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}
if scripts != project.get("scripts", {}):
    sys.exit("console scripts changed")
for text in [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("dev", [])]:
    req = Requirement(text)
    if req.marker and not req.marker.evaluate():
        continue
    try:
        have = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        sys.exit(f"{req.name} missing")
    if not req.specifier.contains(have, prereleases=True):
        sys.exit(f"{req.name} {have} does not satisfy {text}")
PY
}

step "2/5 dockyard with dev extras in the venv (pip install -e '.[dev]')"
if reason=$(install_is_current 2>&1); then
  echo "already installed and current; skipping pip"
else
  echo "installing: $reason"
  "$venv/bin/python" -m pip install -q -e '.[dev]'
fi
"$venv/bin/python" -c 'import dockyard.server, dockyard.protocol; print("dockyard", dockyard.server.__version__)'

step "3/5 Docker engine"
bash "$repo/scripts/engine.sh"

step "4/5 sandbox image"
"$venv/bin/python" -m dockyard.server.images.build

step "5/5 test image"
"$venv/bin/python" -m dockyard.server.images.build --test-image

step "setup done"
