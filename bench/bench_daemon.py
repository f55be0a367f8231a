"""Dockyard daemon vs raw docker-py: createTask latency and exec round trip, measured side by side.

    .venv/bin/python bench/bench_daemon.py [--rounds N] [--exec-rounds M] [--image I] [--json]

One run starts ``dockyard serve --stdio`` on a fresh temporary workspace (through ``DaemonClient``) and,
in the same process, a docker-py client on the same local engine. It then measures, interleaved:

* create: ``dockyard/createTask`` (request sent -> reply with state ``running``) vs
  ``client.containers.create(image, **hardened) + start()`` with the flags the policy gives every task,
  and vs the same raw call that also creates and mounts the two named volumes the daemon creates per task.
  Each container is removed right after it is measured; removal is not timed.
* exec: ``dockyard/exec`` of ``["true"]`` (reply received) vs ``container.exec_run(["true"])`` on an
  equivalently hardened raw container.

The first round of each kind is an untimed warm-up, and the daemon's container is compared with the raw
ones on every hardening field (``docker inspect``), so "equivalent" is checked rather than assumed.
Everything created is labelled with the bench workspace and removed at the end, also on error or Ctrl-C.
It is a benchmark, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import Ulimit

from dockyard.server import __version__
from dockyard.server.cli.rpc import DaemonClient

DEFAULT_IMAGE = "dockyard/testbox:0.1.0"
DEFAULT_ROUNDS = 15
CREATE_WARMUP = 1
EXEC_WARMUP = 2
BENCH_LABEL = "dockyard-bench.workspace"  # not dockyard.workspace: the daemon removes unowned containers with that
KIND_LABEL = "dockyard-bench.kind"
DAEMON_LABEL = "dockyard.workspace"

# The raw side mirrors server/services/policy.py (_hardening, defaults from services/config.py) literally;
# check_hardening() then compares it with what the daemon actually created.
TMPFS_FLAGS = "rw,noexec,nosuid,nodev"
HEALTHCHECK = {
    "test": ["CMD", "/bin/sh", "-c", "test -d /workspace"],
    "interval": 30_000_000_000,
    "timeout": 5_000_000_000,
    "retries": 3,
}
HARDENING_KEYS = (
    ("HostConfig", "CapAdd"),
    ("HostConfig", "CapDrop"),
    ("HostConfig", "Privileged"),
    ("HostConfig", "SecurityOpt"),
    ("HostConfig", "ReadonlyRootfs"),
    ("HostConfig", "Tmpfs"),
    ("HostConfig", "Memory"),
    ("HostConfig", "MemorySwap"),
    ("HostConfig", "NanoCpus"),
    ("HostConfig", "PidsLimit"),
    ("HostConfig", "Ulimits"),
    ("HostConfig", "NetworkMode"),
    ("HostConfig", "Init"),
    ("HostConfig", "RestartPolicy"),
    ("HostConfig", "PortBindings"),
    ("Config", "User"),
    ("Config", "WorkingDir"),
    ("Config", "Healthcheck"),
    ("Config", "Cmd"),
    ("Config", "Entrypoint"),
)


class BenchError(RuntimeError):
    """Something did not behave (a task not running, an exec failing): the numbers would be meaningless."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- statistics ---------------------------------------------------------------------------------------------
@dataclass
class Series:
    op: str
    name: str
    samples_s: list[float] = field(default_factory=list)

    @property
    def ms(self) -> list[float]:
        return sorted(s * 1000 for s in self.samples_s)

    def median(self) -> float:
        return statistics.median(self.ms)

    def p90(self) -> float:
        """Nearest rank: an observed sample, at or above 90% of them."""
        ordered = self.ms
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]

    def summary(self) -> dict[str, Any]:
        ms = self.ms
        return {
            "op": self.op,
            "name": self.name,
            "n": len(ms),
            "median_ms": round(self.median(), 3),
            "p90_ms": round(self.p90(), 3),
            "min_ms": round(ms[0], 3),
            "mean_ms": round(statistics.fmean(ms), 3),
            "max_ms": round(ms[-1], 3),
            "samples_ms": [round(s * 1000, 3) for s in self.samples_s],  # in measurement order
        }


# --- the raw side -------------------------------------------------------------------------------------------
def hardened_kwargs(labels: dict[str, str], hostname: str) -> dict[str, Any]:
    """``containers.create`` arguments equivalent to the policy's defaults for a task (no volumes)."""
    security_opt = ["no-new-privileges:true"]
    if Path("/sys/kernel/security/apparmor").exists():  # the policy's own detection
        security_opt.append("apparmor=docker-default")
    return {
        "user": "1000:1000",
        "cap_drop": ["ALL"],
        "security_opt": security_opt,
        "read_only": True,
        "tmpfs": {"/tmp": f"{TMPFS_FLAGS},mode=1777,size=256m", "/run": f"{TMPFS_FLAGS},size=16m"},
        "mem_limit": "2048m",
        "memswap_limit": "2048m",
        "nano_cpus": 1_000_000_000,
        "pids_limit": 512,
        "ulimits": [
            Ulimit(name="nofile", soft=4096, hard=4096),
            Ulimit(name="nproc", soft=16384, hard=16384),
            Ulimit(name="core", soft=0, hard=0),
        ],
        "init": True,
        "restart_policy": {"Name": "no"},
        "healthcheck": dict(HEALTHCHECK),
        "network_mode": "none",
        "working_dir": "/workspace",
        "hostname": hostname,
        "environment": {},
        "labels": labels,
        "detach": True,
    }


class RawSide:
    def __init__(self, client: docker.DockerClient, image: str, workspace: str) -> None:
        self.client = client
        self.image = image
        self.workspace = workspace

    def create(self, with_volumes: bool) -> tuple[float, Container]:
        """Timed: (volume creates +) containers.create + start. Returns (seconds, container)."""
        name = f"dockyard-bench-{secrets.token_hex(4)}"
        labels = {BENCH_LABEL: self.workspace, KIND_LABEL: "raw+volumes" if with_volumes else "raw"}
        kwargs = hardened_kwargs(labels, hostname=name)
        volumes = (f"{name}-workspace", f"{name}-home")
        if with_volumes:
            kwargs["volumes"] = {
                volumes[0]: {"bind": "/workspace", "mode": "rw"},
                volumes[1]: {"bind": "/home/agent", "mode": "rw"},
            }
        started = time.perf_counter()
        if with_volumes:
            for volume in volumes:
                self.client.volumes.create(name=volume, labels=labels)
        container = self.client.containers.create(self.image, name=name, **kwargs)
        container.start()
        elapsed = time.perf_counter() - started
        container.reload()
        if container.status != "running":
            raise BenchError(f"raw container {name} is {container.status}, not running")
        return elapsed, container

    def remove(self, container: Container) -> None:
        volumes = [m["Name"] for m in container.attrs.get("Mounts", []) if m.get("Type") == "volume"]
        container.remove(force=True)
        for volume in volumes:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.volumes.get(volume).remove(force=True)

    def exec_true(self, container: Container) -> float:
        started = time.perf_counter()
        result = container.exec_run(["true"])
        elapsed = time.perf_counter() - started
        if result.exit_code != 0:
            raise BenchError(f"raw exec of true exited {result.exit_code}")
        return elapsed


# --- the daemon side ----------------------------------------------------------------------------------------
class DaemonSide:
    def __init__(self, client: DaemonClient, image: str) -> None:
        self.client = client
        self.image = image
        self.live: set[str] = set()  # tasks not yet removed, for cleanup on any exit

    def create(self) -> tuple[float, dict[str, Any]]:
        params = {"title": "bench", "image": self.image}
        started = time.perf_counter()
        task: dict[str, Any] = self.client.request("dockyard/createTask", params)
        elapsed = time.perf_counter() - started
        self.live.add(task["id"])
        if task.get("state") != "running":
            raise BenchError(f"createTask replied state {task.get('state')!r} ({task.get('reason')}), not running")
        return elapsed, task

    def remove(self, task_id: str) -> None:
        self.client.request("dockyard/removeTask", {"taskId": task_id, "force": True})
        self.live.discard(task_id)

    def remove_all(self) -> None:
        for task_id in sorted(self.live):
            try:
                self.remove(task_id)
            except Exception as exc:  # keep going: the label sweep is the backstop
                log(f"cleanup: removeTask {task_id} failed: {exc}")

    def exec_true(self, task_id: str) -> float:
        started = time.perf_counter()
        result: dict[str, Any] = self.client.request("dockyard/exec", {"taskId": task_id, "command": ["true"]})
        elapsed = time.perf_counter() - started
        if result.get("exitCode") != 0:
            raise BenchError(f"dockyard/exec of true exited {result.get('exitCode')}")
        return elapsed


# --- equivalence check --------------------------------------------------------------------------------------
def _field(info: dict[str, Any], section: str, key: str) -> Any:
    value = (info.get(section) or {}).get(key)
    if isinstance(value, list) and key in ("CapDrop", "CapAdd", "SecurityOpt"):
        return sorted(value)
    return value


def check_hardening(daemon_info: dict[str, Any], raw_info: dict[str, Any]) -> list[str]:
    """Fields on which the raw container differs from the daemon's (empty: equivalent)."""
    diffs = []
    for section, key in HARDENING_KEYS:
        ours, theirs = _field(raw_info, section, key), _field(daemon_info, section, key)
        if ours != theirs:
            diffs.append(f"{section}.{key}: daemon={theirs!r} raw={ours!r}")
    return diffs


def mount_targets(info: dict[str, Any]) -> list[str]:
    return sorted(f"{m.get('Type')}:{m.get('Destination')}" for m in info.get("Mounts", []))


# --- the runs -----------------------------------------------------------------------------------------------
def rotated(items: list[Any], shift: int) -> list[Any]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def bench_create(
    daemon: DaemonSide, raw: RawSide, docker_client: docker.DockerClient, rounds: int
) -> tuple[list[Series], dict[str, Any]]:
    series = {
        "daemon": Series("create", "daemon createTask"),
        "raw": Series("create", "raw create+start"),
        "raw+volumes": Series("create", "raw +2 volumes"),
    }
    check: dict[str, Any] = {}

    def daemon_round(keep: bool) -> None:
        elapsed, task = daemon.create()
        if not keep and not check.get("daemon"):
            check["daemon"] = docker_client.api.inspect_container(task["containerId"])
        daemon.remove(task["id"])
        if keep:
            series["daemon"].samples_s.append(elapsed)

    def raw_round(kind: str, keep: bool) -> None:
        elapsed, container = raw.create(with_volumes=kind == "raw+volumes")
        try:
            if not keep and kind not in check:
                check[kind] = container.attrs
        finally:
            raw.remove(container)
        if keep:
            series[kind].samples_s.append(elapsed)

    steps: list[Callable[[bool], None]] = [
        daemon_round,
        lambda keep: raw_round("raw", keep),
        lambda keep: raw_round("raw+volumes", keep),
    ]
    for i in range(CREATE_WARMUP + rounds):
        keep = i >= CREATE_WARMUP
        for step in rotated(steps, i):  # interleaved; who goes first rotates every round
            step(keep)
        if keep:
            log(f"  create round {i - CREATE_WARMUP + 1}/{rounds}")

    report: dict[str, Any] = {"daemon_mounts": mount_targets(check["daemon"])}
    for kind in ("raw", "raw+volumes"):
        diffs = check_hardening(check["daemon"], check[kind])
        report[kind] = {"differences": diffs, "mounts": mount_targets(check[kind])}
    return list(series.values()), report


def bench_exec(daemon: DaemonSide, raw: RawSide, rounds: int) -> list[Series]:
    d_series = Series("exec", "daemon dockyard/exec")
    r_series = Series("exec", "raw exec_run")
    _, task = daemon.create()
    _, container = raw.create(with_volumes=True)  # same mounts as the task, so the same container shape
    try:
        steps: list[Callable[[], tuple[Series, float]]] = [
            lambda: (d_series, daemon.exec_true(task["id"])),
            lambda: (r_series, raw.exec_true(container)),
        ]
        for i in range(EXEC_WARMUP + rounds):
            for step in rotated(steps, i):
                target, elapsed = step()
                if i >= EXEC_WARMUP:
                    target.samples_s.append(elapsed)
        log(f"  exec: {rounds} rounds done")
    finally:
        raw.remove(container)
        daemon.remove(task["id"])
    return [d_series, r_series]


def sweep(client: docker.DockerClient, workspace: str) -> list[str]:
    """Backstop: remove anything still labelled with this run's workspace. Returns what it removed."""
    removed = []
    for label in (f"{BENCH_LABEL}={workspace}", f"{DAEMON_LABEL}={workspace}"):
        for container in client.containers.list(all=True, filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
                removed.append(f"container {container.name}")
        for volume in client.volumes.list(filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)
                removed.append(f"volume {volume.name}")
    return removed


def source_state() -> str:
    """Which daemon code ran: the editable install runs the working tree, which may differ from HEAD."""
    repo = Path(__file__).resolve().parents[1]
    try:
        git = ["git", "-C", str(repo)]
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--", "server", "protocol"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = len(dirty.stdout.splitlines())
    return head.stdout.strip() + (f" + {changed} uncommitted change(s) in server/ protocol/" if changed else "")


def run(image: str, create_rounds: int, exec_rounds: int) -> dict[str, Any]:
    client = docker.from_env()
    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        raise SystemExit(f"image {image} is not present (scripts/setup.sh builds the project's images)") from None
    workspace = Path(tempfile.mkdtemp(prefix="dockyard-bench-")).resolve()
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "image": image,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "docker_server": client.version().get("Version"),
        "docker_py": docker.__version__,
        "python": platform.python_version(),
        "dockyard": __version__,
        "source": source_state(),
        "create_rounds": create_rounds,
        "exec_rounds": exec_rounds,
        "create_warmup": CREATE_WARMUP,
        "exec_warmup": EXEC_WARMUP,
        "workspace": str(workspace),
        "loadavg_1m_start": round(os.getloadavg()[0], 2),
        "other_running_containers": len(client.containers.list()),  # not ours: other users of the engine
    }
    leftovers: list[str] = []
    try:
        with DaemonClient(workspace) as rpc:
            daemon = DaemonSide(rpc, image)
            raw = RawSide(client, image, str(workspace))
            try:
                log(f"bench workspace {workspace}")
                create, hardening = bench_create(daemon, raw, client, create_rounds)
                execs = bench_exec(daemon, raw, exec_rounds)
            finally:
                daemon.remove_all()
    finally:
        leftovers = sweep(client, str(workspace))
        shutil.rmtree(workspace, ignore_errors=True)
        meta["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
        client.close()
    by_name = {s.name: s for s in create + execs}
    ratios = {
        "create daemon/raw": by_name["daemon createTask"].median() / by_name["raw create+start"].median(),
        "create daemon/raw+volumes": by_name["daemon createTask"].median() / by_name["raw +2 volumes"].median(),
        "exec daemon/raw": by_name["daemon dockyard/exec"].median() / by_name["raw exec_run"].median(),
    }
    return {
        "meta": meta,
        "results": [s.summary() for s in create + execs],
        "ratios_of_medians": {k: round(v, 3) for k, v in ratios.items()},
        "hardening_check": hardening,
        "swept_leftovers": leftovers,
    }


def render(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"Dockyard {meta['dockyard']} daemon vs raw docker-py {meta['docker_py']}  ({meta['date']})",
        f"daemon source: {meta['source']}",
        f"engine {meta['docker_server']}, kernel {meta['kernel']}, {meta['cpus']} CPUs, image {meta['image']}",
        f"load 1m {meta['loadavg_1m_start']} -> {meta['loadavg_1m_end']}, "
        f"{meta['other_running_containers']} other running container(s) on the engine at start",
        "",
        f"{'op':<7} {'path':<22} {'n':>3} {'median ms':>10} {'p90 ms':>8} {'min ms':>8}",
    ]
    for r in report["results"]:
        lines.append(
            f"{r['op']:<7} {r['name']:<22} {r['n']:>3} {r['median_ms']:>10.1f} {r['p90_ms']:>8.1f} {r['min_ms']:>8.1f}"
        )
    lines += ["", "ratio of medians:"]
    lines += [f"  {name:<27} {value:.2f}x" for name, value in report["ratios_of_medians"].items()]
    lines.append("")
    hardening = report["hardening_check"]
    for kind in ("raw", "raw+volumes"):
        diffs = hardening[kind]["differences"]
        verdict = "same on all checked hardening fields" if not diffs else "DIFFERS: " + "; ".join(diffs)
        lines.append(f"hardening {kind:<11} vs daemon: {verdict}")
    lines.append(f"mounts: daemon {hardening['daemon_mounts']}, raw+volumes {hardening['raw+volumes']['mounts']}")
    swept = report["swept_leftovers"]
    lines.append(f"cleanup: {'nothing left over' if not swept else 'swept ' + ', '.join(swept)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="create rounds (default %(default)s)")
    parser.add_argument("--exec-rounds", type=int, default=None, help="exec rounds (default: 2 x --rounds)")
    parser.add_argument("--image", default=DEFAULT_IMAGE, help="image for every container (default %(default)s)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results instead of the table")
    args = parser.parse_args(argv)
    exec_rounds = args.exec_rounds if args.exec_rounds is not None else 2 * args.rounds
    if args.rounds < 1 or exec_rounds < 1:
        parser.error("rounds must be at least 1")
    # SIGTERM unwinds like Ctrl-C, so the finally blocks remove what this run created.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    report = run(args.image, args.rounds, exec_rounds)
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
