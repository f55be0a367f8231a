#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine.
# - An engine that already answers (a laptop, a CI runner with Docker) is used as is.
# - Otherwise, as root on Debian: install Debian's docker.io if dockerd is missing, start dockerd in the
#   background with its log in $DOCKYARD_ENGINE_LOG, and wait for the socket.
# Exits non-zero with a clear message when no engine can be had: callers must fail, never skip.
set -euo pipefail

log=${DOCKYARD_ENGINE_LOG:-/var/log/dockyard-dockerd.log}
timeout_s=${DOCKYARD_ENGINE_TIMEOUT:-90}

say() { printf '[engine] %s\n' "$*" >&2; }

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_answers; then
  say "Docker engine already running: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  say "no Docker engine answers and this is not root: start Docker yourself (e.g. 'sudo systemctl start docker')"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io (engine) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi
command -v docker >/dev/null 2>&1 || { apt-get install -y -qq docker-cli >/dev/null 2>&1 || true; }

if ! pgrep -x dockerd >/dev/null 2>&1; then
  say "starting dockerd (log: $log)"
  mkdir -p "$(dirname "$log")"
  rm -f /var/run/docker.pid
  nohup dockerd >>"$log" 2>&1 </dev/null &
  disown || true
fi

for _ in $(seq 1 "$timeout_s"); do
  if engine_answers; then
    say "Docker engine ready: $(docker version --format '{{.Server.Version}}')"
    exit 0
  fi
  sleep 1
done
say "dockerd did not answer within ${timeout_s}s; last lines of $log:"
tail -n 20 "$log" >&2 || true
exit 1
