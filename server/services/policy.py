"""Turns a createTask request into hardened docker create arguments, or refuses it (DESIGN §5).

Everything is checked before anything is returned, so a refused request creates nothing. Pure: no
docker import, no side effects beyond ``stat``-ing mount sources; the docker adapter converts the
plain dicts emitted here (ulimits, healthcheck) into docker-py types.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from dockyard.protocol.task import CreateTaskParams, MountSpec, PortSpec, Resources
from dockyard.server import __version__
from dockyard.server.errors import PolicyRefused
from dockyard.server.services.config import WorkspaceConfig
from dockyard.server.services.policy_options import check_options, is_root_user

DEFAULT_USER = "1000:1000"
APPARMOR_PATH = Path("/sys/kernel/security/apparmor")
HOME_MOUNT = "/home/agent"
WORKSPACE_MOUNT = "/workspace"
NPROC = 16384  # must stay at or below the host hard limit (seen: 96368)
NOFILE = 4096  # must stay <= the host's hard limit (20000, DESIGN §6): no CAP_SYS_RESOURCE to raise it
LABEL_PREFIX = "dockyard."
LOOPBACK = ("127.0.0.1", "::1")
SOCKET_NAMES = frozenset({"docker.sock", "containerd.sock"})
SOCKET_DIRS = ("/run", "/var/run")
SYSTEM_DIRS = ("/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot")
STATE_DIR = ".dockyard"  # daemon state, config and hooks: the host trusts these
MAX_STATE_SCAN = 10_000
HEALTHCHECK: dict[str, Any] = {
    "test": ["CMD", "/bin/sh", "-c", f"test -d {WORKSPACE_MOUNT}"],
    "interval": 30_000_000_000,
    "timeout": 5_000_000_000,
    "retries": 3,
}


@dataclass(frozen=True)
class ContainerSpec:
    """What to create. ``kwargs`` holds env values, so it is kept out of ``repr`` (logs)."""

    image: str
    kwargs: dict[str, Any] = field(repr=False)
    resources: Resources
    network: str
    env_keys: list[str]
    labels: dict[str, str]


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """Env for logs: names kept, values never."""
    return dict.fromkeys(env, "***")


def _resources(params: CreateTaskParams, config: WorkspaceConfig) -> Resources:
    req, d, p = params.resources or Resources(), config.defaults, config.policy
    out = Resources(
        memory_mb=req.memory_mb if req.memory_mb is not None else d.memory_mb,
        cpus=req.cpus if req.cpus is not None else d.cpus,
        pids=req.pids if req.pids is not None else d.pids,
    )
    for wire, value, ceiling, key in (
        ("memoryMb", out.memory_mb, p.max_memory_mb, "max_memory_mb"),
        ("cpus", out.cpus, p.max_cpus, "max_cpus"),
        ("pids", out.pids, p.max_pids, "max_pids"),
    ):
        assert value is not None
        if value > ceiling:
            raise PolicyRefused(f"resources.{wire}", f"{value} is above this workspace's ceiling {ceiling} ({key})")
    return out


def _image(params: CreateTaskParams, config: WorkspaceConfig) -> str:
    image: str = params.image or config.defaults.image
    allowed = config.policy.allowed_images
    if allowed and image not in allowed:
        raise PolicyRefused("image", f"{image!r} is not in this workspace's allowed_images: {', '.join(allowed)}")
    return image


def _network(params: CreateTaskParams, config: WorkspaceConfig) -> str:
    """The wire default is ``none``; the workspace default applies when the client did not choose."""
    name: str = params.network if "network" in params.model_fields_set else config.defaults.network
    if name.lower() == "host":
        raise PolicyRefused("network", "the host network is never allowed")
    if name.lower().startswith("container:"):
        raise PolicyRefused("network", "sharing another container's network stack is never allowed")
    if not config.policy.network_allowed(name):
        allowed = ", ".join(sorted({"none", *config.policy.allowed_networks}))
        raise PolicyRefused("network", f"{name!r} is not allowed in this workspace (allowed: {allowed})")
    return name


def _labels(params: CreateTaskParams, task_id: str, workspace: Path) -> dict[str, str]:
    labels = dict(params.labels or {})
    for key in labels:
        if key.lower().startswith(LABEL_PREFIX):
            raise PolicyRefused(f"labels.{key}", f"keys starting with {LABEL_PREFIX!r} are the daemon's")
    labels[f"{LABEL_PREFIX}task"] = task_id
    labels[f"{LABEL_PREFIX}workspace"] = str(workspace.resolve())
    labels[f"{LABEL_PREFIX}version"] = __version__
    return labels


def _environment(params: CreateTaskParams, host_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(params.env or {})
    for i, name in enumerate(params.env_passthrough or []):
        if name in env:
            raise PolicyRefused(f"envPassthrough[{i}]", f"{name} is also given in env; pick one")
        if name not in host_env:
            raise PolicyRefused(f"envPassthrough[{i}]", f"{name} is not set in the daemon's environment")
        env[name] = host_env[name]
    return env


def _names_socket(path: str) -> bool:
    p = "/" + path.strip("/") if path.startswith("/") else path
    if any(p == d or p.startswith(d + "/") for d in SOCKET_DIRS):
        return True
    return any(part in SOCKET_NAMES or part.endswith(".sock") for part in PurePosixPath(p).parts)


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _refuse_unsafe_text(fld: str, raw: str) -> None:
    """``volumes`` become ``src:dst:mode`` strings, so separators in a path could inject options."""
    if not raw or any(c in raw for c in ":,\0\n"):
        raise PolicyRefused(fld, "must be a non-empty path without ':', ',' or control characters")
    if ".." in PurePosixPath(raw).parts:
        raise PolicyRefused(fld, "'..' is not allowed")
    if _names_socket(raw):
        raise PolicyRefused(fld, "sockets (docker.sock, containerd.sock, *.sock, /run) are never mounted")


def _resolve_source(i: int, raw: str, ws: Path) -> Path:
    """Realpath of a mount source that must be an existing file or directory inside the workspace."""
    fld = f"mounts[{i}].source"
    _refuse_unsafe_text(fld, raw)
    lexical = Path(posixpath.normpath(ws / raw))
    if not os.path.lexists(lexical):
        raise PolicyRefused(fld, f"{raw!r} does not exist")
    real = Path(os.path.realpath(lexical))
    if not _inside(real, ws):
        why = "is a symlink that leaves" if _inside(lexical, ws) else "is outside"
        raise PolicyRefused(fld, f"{raw!r} {why} the workspace {ws}")
    if real != ws and _names_socket(str(real.relative_to(ws))):
        raise PolicyRefused(fld, f"{raw!r} resolves to a socket name; sockets are never mounted")
    if not real.exists():
        raise PolicyRefused(fld, f"{raw!r} is a dangling symlink")
    mode = os.stat(real).st_mode
    if stat.S_ISSOCK(mode):
        raise PolicyRefused(fld, f"{raw!r} is a socket; sockets are never mounted")
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise PolicyRefused(fld, f"{raw!r}: only regular files and directories can be mounted")
    return real


def _state_has_socket(state: Path) -> bool:
    """Bounded scan of ``.dockyard``; too many entries counts as unsafe rather than unchecked."""
    seen = 0
    for root, dirs, files in os.walk(state):
        for name in dirs + files:
            seen += 1
            entry = os.path.join(root, name)
            if seen > MAX_STATE_SCAN or stat.S_ISSOCK(os.lstat(entry).st_mode):
                return True
    return False


def _refuse_trusted_paths(i: int, real: Path, read_only: bool, ws: Path) -> None:
    """Host git and the daemon run what is in ``.git`` and ``.dockyard``: the task must not write them."""
    fld = f"mounts[{i}].source"
    state, git = ws / STATE_DIR, ws / ".git"
    if _inside(real, state):
        raise PolicyRefused(fld, f"{STATE_DIR} holds the daemon's state and config; never mounted")
    if real == ws and state.exists() and _state_has_socket(state):
        raise PolicyRefused(fld, f"the workspace's {STATE_DIR} holds a socket; mount a subdirectory")
    if read_only:
        return
    if real == ws or _inside(real, git) or (real / ".git").exists():
        raise PolicyRefused(
            fld, "a writable mount may not cover the workspace root, .dockyard or a .git (host git runs its hooks)"
        )


def _check_target(i: int, raw: str, seen: set[str]) -> str:
    fld = f"mounts[{i}].target"
    if not raw.startswith("/"):
        raise PolicyRefused(fld, "must be an absolute path")
    _refuse_unsafe_text(fld, raw)
    target = "/" + posixpath.normpath(raw).lstrip("/")
    if target == "/":
        raise PolicyRefused(fld, "cannot replace the container's root")
    if target == WORKSPACE_MOUNT:
        raise PolicyRefused(fld, f"{WORKSPACE_MOUNT} is the task checkout")
    for d in SYSTEM_DIRS:
        if target == d or target.startswith(d + "/"):
            raise PolicyRefused(fld, f"must not shadow the system directory {d}")
    if target in seen:
        raise PolicyRefused(fld, f"{target} is mounted twice")
    seen.add(target)
    return target


def _mounts(mounts: list[MountSpec], workspace: Path) -> dict[str, dict[str, str]]:
    ws = Path(os.path.realpath(workspace))
    seen: set[str] = set()
    out: dict[str, dict[str, str]] = {}
    for i, m in enumerate(mounts):
        real = _resolve_source(i, m.source, ws)
        _refuse_trusted_paths(i, real, m.read_only, ws)
        target = _check_target(i, m.target, seen)
        if str(real) in out:
            raise PolicyRefused(f"mounts[{i}].source", f"{m.source!r} is already mounted")
        out[str(real)] = {"bind": target, "mode": "ro" if m.read_only else "rw"}
    _refuse_nested_writable(mounts, out)
    return out


def _refuse_nested_writable(mounts: list[MountSpec], out: dict[str, dict[str, str]]) -> None:
    """Inside a writable mount the task can swap a directory for a symlink; Docker would then
    follow it when the container is next started, so no mount may sit inside a writable one."""
    sources = [Path(s) for s in out]
    for i, inner in enumerate(sources):
        for j, outer in enumerate(sources):
            if i != j and not mounts[j].read_only and inner.is_relative_to(outer):
                raise PolicyRefused(f"mounts[{i}].source", f"is inside the writable mounts[{j}]")


def _ports(ports: list[PortSpec], config: WorkspaceConfig, network: str) -> dict[str, tuple[str, int | None]]:
    if not ports:
        return {}
    if not config.policy.allow_ports:
        raise PolicyRefused("ports", "publishing ports is off for this workspace (policy.allow_ports = false)")
    if network == "none":
        raise PolicyRefused("ports", "the task has no network (network 'none'), so there is nothing to publish")
    out: dict[str, tuple[str, int | None]] = {}
    host_ports: set[tuple[int, str]] = set()
    for i, p in enumerate(ports):
        if p.host_ip not in LOOPBACK:
            raise PolicyRefused(f"ports[{i}].hostIp", f"{p.host_ip!r}: ports bind to 127.0.0.1 or ::1 only")
        key = f"{p.container_port}/{p.protocol}"
        if key in out:
            raise PolicyRefused(f"ports[{i}].containerPort", f"{key} is published twice")
        if p.host_port is not None:
            if (p.host_port, p.protocol) in host_ports:
                raise PolicyRefused(f"ports[{i}].hostPort", f"{p.host_port}/{p.protocol} is used twice")
            host_ports.add((p.host_port, p.protocol))
        out[key] = (p.host_ip, p.host_port)
    return out


def _security_opt(apparmor: bool | None) -> list[str]:
    opts = ["no-new-privileges:true"]  # seccomp: Docker's default profile, by not setting one
    if APPARMOR_PATH.exists() if apparmor is None else apparmor:
        opts.append("apparmor=docker-default")
    return opts


def _hardening(res: Resources, config: WorkspaceConfig, user: str, apparmor: bool | None) -> dict[str, Any]:
    """The DESIGN §5 defaults every task container gets."""
    assert res.memory_mb is not None and res.cpus is not None and res.pids is not None
    mem = f"{res.memory_mb}m"
    flags = "rw,noexec,nosuid,nodev"
    return {
        "user": user,
        "cap_drop": ["ALL"],
        "security_opt": _security_opt(apparmor),
        "read_only": True,
        # mode=1777: without it the tmpfs is root-owned 0755 and the non-root task user cannot write /tmp.
        "tmpfs": {"/tmp": f"{flags},mode=1777,size={config.defaults.tmp_size_mb}m", "/run": f"{flags},size=16m"},
        "mem_limit": mem,
        "memswap_limit": mem,
        "nano_cpus": round(res.cpus * 1_000_000_000),
        "pids_limit": res.pids,
        "ulimits": [
            {"Name": "nofile", "Soft": NOFILE, "Hard": NOFILE},
            # RLIMIT_NPROC counts every process of the uid on the whole host, so it is a backstop only;
            # the per-container pids limit is what contains a fork bomb.
            {"Name": "nproc", "Soft": NPROC, "Hard": NPROC},
            {"Name": "core", "Soft": 0, "Hard": 0},
        ],
        "init": True,
        "restart_policy": {"Name": "no"},
        "healthcheck": dict(HEALTHCHECK),
    }


def build_container_spec(
    params: CreateTaskParams,
    *,
    task_id: str,
    workspace: Path,
    config: WorkspaceConfig,
    volume_name: str,
    home_volume: str | None = None,
    workspace_bind: Path | None = None,
    default_command: list[str] | None,
    host_env: Mapping[str, str],
    user: str = DEFAULT_USER,
    apparmor: bool | None = None,
) -> ContainerSpec:
    """Checks the whole request, then returns ``containers.create(image, **kwargs)`` arguments.

    ``apparmor=None`` detects AppArmor on this host; tests pass True/False.
    """
    if is_root_user(user):
        raise ValueError(f"task user {user!r} is root; pass a non-root uid:gid")
    image = _image(params, config)
    res = _resources(params, config)
    network = _network(params, config)
    labels = _labels(params, task_id, workspace)
    env = _environment(params, host_env)
    # the task checkout (a git workspace) or, without git, a per-task volume
    volumes = {str(workspace_bind) if workspace_bind else volume_name: {"bind": WORKSPACE_MOUNT, "mode": "rw"}}
    if home_volume is not None:  # layer 2 of DESIGN §2: caches, agent sessions, tools
        volumes[home_volume] = {"bind": HOME_MOUNT, "mode": "rw"}
    volumes.update(_mounts(params.mounts or [], workspace))
    ports = _ports(params.ports or [], config, network)
    extra = check_options(params.options or {})
    kwargs = _hardening(res, config, user, apparmor)
    kwargs |= {
        "network_mode": network,
        "labels": dict(labels),
        "volumes": volumes,
        "working_dir": WORKSPACE_MOUNT,
        "environment": env,
        "hostname": task_id,
    }
    if ports:
        kwargs["ports"] = ports
    command = params.command or default_command
    if command:
        kwargs["command"] = list(command)
    kwargs |= extra
    return ContainerSpec(image, kwargs, res, network, sorted(env), labels)
