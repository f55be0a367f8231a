"""Pure formatting: wire dicts (camelCase, as the daemon sends them) -> strings and rich renderables."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dockyard.server.cli.git_format import git_fields

STATE_STYLES = {
    "running": "green",
    "creating": "cyan",
    "paused": "yellow",
    "stopped": "dim",
    "failed": "red",
    "lost": "red",
    "removed": "dim",
    "conflicted": "red",
    "integrated": "blue",
}
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str) -> datetime | None:
    """An RFC 3339 time as the daemon or Docker writes it (``Z``, up to nanoseconds); None if unparsable."""
    if not text or text.startswith("0001-01-01"):
        return None
    try:
        stamp = datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def age(created: str, now: datetime | None = None) -> str:
    """``45s``, ``3m``, ``2h``, ``4d`` since ``created``; ``?`` if it cannot be read."""
    stamp = parse_time(created)
    if stamp is None:
        return "?"
    seconds = max(0, int(((now or datetime.now(UTC)) - stamp).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def human_bytes(n: float | None) -> str:
    """``512 B``, ``1.5 KiB``, ``2.0 GiB``."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def resources_text(resources: Mapping[str, Any] | None) -> str:
    res = resources or {}
    parts = []
    if res.get("memoryMb") is not None:
        parts.append(f"{res['memoryMb']} MiB")
    if res.get("cpus") is not None:
        parts.append(f"{res['cpus']:g} CPU")
    if res.get("pids") is not None:
        parts.append(f"{res['pids']} pids")
    return ", ".join(parts) or "defaults"


def state_text(state: str, reason: str | None = None) -> Text:
    text = Text(state, style=STATE_STYLES.get(state, ""))
    if reason:
        text.append(f" ({reason})", style="dim")
    return text


def task_row(task: Mapping[str, Any], now: datetime | None = None) -> list[str]:
    """id, title, state, reason, image, age — the columns of ``task ls``."""
    return [
        str(task.get("id", "")),
        str(task.get("title", "")),
        str(task.get("state", "")),
        str(task.get("reason") or ""),
        str(task.get("image", "")),
        age(str(task.get("createdAt", "")), now),
    ]


def tasks_table(tasks: Sequence[Mapping[str, Any]], now: datetime | None = None) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for name in ("ID", "TITLE", "STATE", "REASON", "IMAGE", "AGE"):
        no_wrap = name in ("ID", "STATE", "AGE")
        table.add_column(name, no_wrap=no_wrap, overflow="fold")
    for task in tasks:
        row = task_row(task, now)
        table.add_row(row[0], row[1], Text(row[2], style=STATE_STYLES.get(row[2], "")), row[3], row[4], row[5])
    return table


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    return grid


def task_fields(task: Mapping[str, Any]) -> list[tuple[str, str | Text]]:
    """The rows of the task panel in ``task show``."""
    rows: list[tuple[str, str | Text]] = [
        ("title", str(task.get("title", ""))),
        ("state", state_text(str(task.get("state", "")), task.get("reason"))),
        ("image", str(task.get("image", ""))),
        ("container", str(task.get("containerId") or "-")[:12]),
        ("network", str(task.get("network", ""))),
        ("resources", resources_text(task.get("resources"))),
        ("created", str(task.get("createdAt", ""))),
        ("updated", str(task.get("updatedAt", ""))),
        ("revision", str(task.get("revision", 0))),
    ]
    if task.get("parentId"):
        rows.append(("parent", str(task["parentId"])))
    rows += git_fields(task)
    labels = task.get("labels") or {}
    if labels:
        rows.append(("labels", ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))))
    if task.get("envKeys"):
        rows.append(("env", ", ".join(task["envKeys"])))
    return rows


def security_facts(inspect: Mapping[str, Any]) -> list[tuple[str, str, bool]]:
    """(what, value, hardened?) for the security-relevant parts of an inspect summary."""
    user = str(inspect.get("user") or "")
    caps_dropped = [str(c) for c in inspect.get("capDrop") or []]
    caps_added = [str(c) for c in inspect.get("capAdd") or []]
    sec_opts = [str(o) for o in inspect.get("securityOpt") or []]
    network = str(inspect.get("networkMode") or "")
    return [
        ("user", user or "image default (root?)", bool(user) and user.split(":")[0] not in ("0", "root")),
        ("capabilities dropped", ", ".join(caps_dropped) or "none", "ALL" in caps_dropped),
        ("capabilities added", ", ".join(caps_added) or "none", not caps_added),
        ("read-only root fs", "yes" if inspect.get("readOnlyRootfs") else "no", bool(inspect.get("readOnlyRootfs"))),
        ("no-new-privileges", "yes" if _no_new_privs(sec_opts) else "no", _no_new_privs(sec_opts)),
        ("network", network or "?", network == "none"),
        ("memory limit", human_bytes(inspect.get("memoryBytes")), bool(inspect.get("memoryBytes"))),
        ("pids limit", str(inspect.get("pidsLimit") or "none"), bool(inspect.get("pidsLimit"))),
        ("init process", "yes" if inspect.get("init") else "no", bool(inspect.get("init"))),
    ]


def _no_new_privs(opts: Sequence[str]) -> bool:
    return any(o.replace("=", ":") in ("no-new-privileges", "no-new-privileges:true") for o in opts)


def security_table(inspect: Mapping[str, Any]) -> Table:
    grid = _grid()
    for what, value, ok in security_facts(inspect):
        mark = Text("✓ ", style="green") if ok else Text("✗ ", style="red")
        grid.add_row(what, Text.assemble(mark, value))
    return grid


def container_rows(inspect: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Runtime facts of the inspect summary (the security ones are in :func:`security_facts`)."""
    nano = int(inspect.get("nanoCpus") or 0)
    rows = [
        ("status", str(inspect.get("status", "?"))),
        ("health", str(inspect.get("health") or "-")),
        ("pid", str(inspect.get("pid") or "-")),
        ("started", str(inspect.get("startedAt") or "-")),
        ("cpus", f"{nano / 1e9:g}" if nano else "unlimited"),
        ("oom killed", "yes" if inspect.get("oomKilled") else "no"),
    ]
    if not inspect.get("running") and inspect.get("exitCode") is not None:
        rows.append(("exit code", str(inspect["exitCode"])))
    return rows


def stats_rows(stats: Mapping[str, Any]) -> list[tuple[str, str]]:
    used, limit = stats.get("memoryBytes"), stats.get("memoryLimitBytes")
    read, written = human_bytes(stats.get("blockReadBytes")), human_bytes(stats.get("blockWriteBytes"))
    return [
        ("cpu", f"{float(stats.get('cpuPercent', 0.0)):.2f} %"),
        ("memory", f"{human_bytes(used)} / {human_bytes(limit)} ({float(stats.get('memoryPercent', 0.0)):.2f} %)"),
        ("pids", str(stats.get("pids", 0))),
        ("net rx / tx", f"{human_bytes(stats.get('netRxBytes'))} / {human_bytes(stats.get('netTxBytes'))}"),
        ("block read / write", f"{read} / {written}"),
    ]


def rows_grid(rows: Sequence[tuple[str, str | Text]]) -> Table:
    grid = _grid()
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def top_table(top: Mapping[str, Any]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in top.get("titles") or []:
        table.add_column(str(title), overflow="fold")
    for proc in top.get("processes") or []:
        table.add_row(*[str(cell) for cell in proc])
    return table


def status_view(status: Mapping[str, Any]) -> RenderableType:
    """``task show``: the task panel, then container, security, stats and processes when present."""
    task = status.get("task") or {}
    parts: list[RenderableType] = [Panel(rows_grid(task_fields(task)), title=f"task {task.get('id', '?')}")]
    inspect = status.get("inspect")
    if inspect:
        parts.append(Panel(rows_grid(container_rows(inspect)), title="container"))
        parts.append(Panel(security_table(inspect), title="security"))
    if status.get("stats"):
        parts.append(Panel(rows_grid(stats_rows(status["stats"])), title="stats"))
    if status.get("top"):
        parts.append(Panel(top_table(status["top"]), title="processes"))
    return Group(*parts)
