"""Per-workspace settings: what a task gets by default and how far a request may loosen it.

Read from ``<workspace>/.dockyard/config.toml``. Every key is checked: a typo must fail loudly
rather than silently change policy, and a value that would weaken hardening (``host`` network)
is refused here so ``policy`` never has to trust the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from dockyard.server.errors import InvalidParams

CONFIG_RELPATH = Path(".dockyard") / "config.toml"
# Docker's own rule for network names; also keeps out `container:<id>` and other modes.
NETWORK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Names that are network *modes* rather than networks: sharing the host's or another container's stack.
FORBIDDEN_NETWORKS = frozenset({"host"})

T = TypeVar("T")


def _host_cpus() -> float:
    return float(os.cpu_count() or 1)


@dataclass(frozen=True)
class Defaults:
    """Values applied when a createTask request leaves a field out."""

    image: str
    memory_mb: int = 2048
    cpus: float = 1.0
    pids: int = 512
    network: str = "none"
    tmp_size_mb: int = 256


@dataclass(frozen=True)
class Policy:
    """Ceilings and the loosenings this workspace permits."""

    max_memory_mb: int = 16384
    max_cpus: float = field(default_factory=_host_cpus)
    max_pids: int = 4096
    allowed_networks: tuple[str, ...] = ("none",)
    allow_ports: bool = False
    allowed_images: tuple[str, ...] = ()  # empty: any image

    def network_allowed(self, name: str) -> bool:
        """``none`` is always fine; anything else must be listed."""
        return name == "none" or name in self.allowed_networks


@dataclass(frozen=True)
class GitSettings:
    """[git]: auto-commit points (commit pending work inside the container) and memory handling."""

    autocommit_on_stop: bool = True
    autocommit_on_detach: bool = True
    autocommit_on_integrate: bool = True
    autocommit_on_checkpoint: bool = True
    keep_memory_on_integrate: bool = False  # .dockyard/task/ is left out of the target branch by default


@dataclass(frozen=True)
class WorkspaceConfig:
    defaults: Defaults
    policy: Policy
    path: Path | None = None  # the file it came from, None when defaults were used
    git: GitSettings = GitSettings()


class _Reader:
    """Type-checks one TOML table, naming ``file`` and ``section.key`` in every error."""

    def __init__(self, path: Path, section: str, table: Mapping[str, Any]) -> None:
        self.path, self.section, self.table = path, section, table

    def fail(self, key: str, reason: str) -> InvalidParams:
        where = f"{self.section}.{key}"
        return InvalidParams(f"{self.path}: {where}: {reason}", {"file": str(self.path), "key": where})

    def get(self, key: str, default: T, check: Callable[[Any], T | None], expected: str) -> T:
        if key not in self.table:
            return default
        value = check(self.table[key])
        if value is None:
            raise self.fail(key, f"expected {expected}, got {self.table[key]!r}")
        return value

    def positive_int(self, key: str, default: int, minimum: int = 1) -> int:
        def check(v: Any) -> int | None:
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= minimum else None

        return self.get(key, default, check, f"an integer >= {minimum}")

    def positive_float(self, key: str, default: float) -> float:
        def check(v: Any) -> float | None:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and v > 0
            return float(v) if ok else None

        return self.get(key, default, check, "a number > 0")

    def string(self, key: str, default: str) -> str:
        return self.get(key, default, lambda v: v if isinstance(v, str) and v else None, "a non-empty string")

    def boolean(self, key: str, default: bool) -> bool:
        return self.get(key, default, lambda v: v if isinstance(v, bool) else None, "true or false")

    def strings(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        def check(v: Any) -> tuple[str, ...] | None:
            ok = isinstance(v, list) and all(isinstance(s, str) and s for s in v)
            return tuple(v) if ok else None

        return self.get(key, default, check, "a list of non-empty strings")

    def refuse_unknown(self, known: set[str]) -> None:
        for key in self.table:
            if key not in known:
                raise self.fail(key, f"unknown key (known: {', '.join(sorted(known))})")


def _network_problem(name: str) -> str | None:
    if name.lower() in FORBIDDEN_NETWORKS:
        return "the host network is never allowed"
    if not NETWORK_NAME.match(name):
        return "not a network name (container:<x> and other modes are not allowed)"
    return None


def _read_defaults(path: Path, table: Mapping[str, Any], image: str) -> Defaults:
    r = _Reader(path, "defaults", table)
    r.refuse_unknown({"image", "memory_mb", "cpus", "pids", "network", "tmp_size_mb"})
    d = Defaults(image=image)
    return Defaults(
        image=r.string("image", d.image),
        memory_mb=r.positive_int("memory_mb", d.memory_mb, minimum=16),
        cpus=r.positive_float("cpus", d.cpus),
        pids=r.positive_int("pids", d.pids, minimum=8),
        network=r.string("network", d.network),
        tmp_size_mb=r.positive_int("tmp_size_mb", d.tmp_size_mb),
    )


def _read_policy(path: Path, table: Mapping[str, Any]) -> Policy:
    r = _Reader(path, "policy", table)
    r.refuse_unknown({"max_memory_mb", "max_cpus", "max_pids", "allowed_networks", "allow_ports", "allowed_images"})
    p = Policy()
    networks = r.strings("allowed_networks", p.allowed_networks)
    for name in networks:
        problem = _network_problem(name)
        if problem:
            raise r.fail("allowed_networks", f"{name!r}: {problem}")
    return Policy(
        max_memory_mb=r.positive_int("max_memory_mb", p.max_memory_mb, minimum=16),
        max_cpus=r.positive_float("max_cpus", p.max_cpus),
        max_pids=r.positive_int("max_pids", p.max_pids, minimum=8),
        allowed_networks=networks,
        allow_ports=r.boolean("allow_ports", p.allow_ports),
        allowed_images=r.strings("allowed_images", p.allowed_images),
    )


def _read_git(path: Path, table: Mapping[str, Any]) -> GitSettings:
    r = _Reader(path, "git", table)
    g = GitSettings()
    keys = (
        "autocommit_on_stop",
        "autocommit_on_detach",
        "autocommit_on_integrate",
        "autocommit_on_checkpoint",
        "keep_memory_on_integrate",
    )
    r.refuse_unknown(set(keys))
    return GitSettings(**{key: r.boolean(key, getattr(g, key)) for key in keys})


def _check_consistent(path: Path, d: Defaults, p: Policy) -> None:
    """Defaults beyond the ceilings would make every createTask fail later; say so at load time."""
    r = _Reader(path, "defaults", {})
    for key, value, ceiling in (
        ("memory_mb", d.memory_mb, p.max_memory_mb),
        ("cpus", d.cpus, p.max_cpus),
        ("pids", d.pids, p.max_pids),
    ):
        if value > ceiling:
            raise r.fail(key, f"{value} is above the ceiling policy.max_{key} = {ceiling}")
    if not p.network_allowed(d.network):
        raise r.fail("network", f"{d.network!r} is not in policy.allowed_networks")


def load_config(workspace: Path, default_image: str) -> WorkspaceConfig:
    """The workspace's config; built-in defaults when the file does not exist."""
    path = workspace / CONFIG_RELPATH
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return WorkspaceConfig(Defaults(image=default_image), Policy())
    except tomllib.TOMLDecodeError as e:
        raise InvalidParams(f"{path}: not valid TOML: {e}", {"file": str(path), "key": None}) from e
    except OSError as e:
        raise InvalidParams(f"{path}: cannot read: {e}", {"file": str(path), "key": None}) from e
    for key, value in data.items():
        if key not in ("defaults", "policy", "git"):
            raise InvalidParams(
                f"{path}: {key}: unknown section (known: defaults, policy, git)", {"file": str(path), "key": key}
            )
        if not isinstance(value, dict):
            raise InvalidParams(f"{path}: {key}: expected a [{key}] table", {"file": str(path), "key": key})
    defaults = _read_defaults(path, data.get("defaults", {}), default_image)
    policy = _read_policy(path, data.get("policy", {}))
    _check_consistent(path, defaults, policy)
    return WorkspaceConfig(defaults, policy, path, _read_git(path, data.get("git", {})))
