"""``dockyard doctor``: can this machine and workspace run tasks? One ✓/✗ line per check, with a fix."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from dockyard.server.adapters import docker_images
from dockyard.server.adapters.docker_engine import connect
from dockyard.server.adapters.journal import JOURNAL_NAME, SNAPSHOT_NAME
from dockyard.server.adapters.journal_format import decode_snapshot, scan
from dockyard.server.cli.common import stdout_console, workspace_of
from dockyard.server.errors import DockerUnavailable, DockyardError
from dockyard.server.images.build import sandbox_tag, test_tag

MIN_PYTHON = (3, 11)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.required and not self.ok


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    text = ".".join(str(p) for p in version)
    ok = version[:2] >= MIN_PYTHON
    return Check("python", ok, f"{text} ({sys.executable})", "" if ok else "install Python 3.11 or newer")


def check_engine() -> tuple[Check, Any]:
    """The engine check and, when reachable, the docker client for the image checks."""
    try:
        client = connect(timeout=10)
        info = client.version()
    except DockyardError as exc:
        detail = exc.data.get("detail", exc.message) if isinstance(exc.data, dict) else exc.message
        return Check("docker engine", False, f"not reachable: {detail}", DockerUnavailable.HOW_TO_START), None
    where = os.environ.get("DOCKER_HOST", "default socket")
    detail = f"{info.get('Version', '?')} (API {info.get('ApiVersion', '?')}, {info.get('Os', '?')}) via {where}"
    return Check("docker engine", True, detail), client


def check_image(client: Any, tag: str, required: bool, how: str) -> Check:
    name = "sandbox image" if required else "test image"
    if client is None:
        return Check(name, False, f"{tag}: cannot tell without the engine", "start the engine first", required)
    try:
        present = docker_images.image_exists(client, tag)
    except DockyardError as exc:
        return Check(name, False, f"{tag}: {exc.message}", "check the engine", required)
    return Check(name, present, f"{tag} {'present' if present else 'missing'}", "" if present else how, required)


def check_workspace(workspace: Path) -> Check:
    try:
        with tempfile.NamedTemporaryFile(dir=workspace, prefix=".dockyard-doctor-"):
            pass
    except OSError as exc:
        hint = "pick a folder you can write with --workspace, or fix its permissions"
        return Check("workspace writable", False, f"{workspace}: {exc.strerror or exc}", hint)
    return Check("workspace writable", True, str(workspace))


def check_git(workspace: Path) -> Check:
    git = shutil.which("git")
    if git is None:
        return Check("git repository", False, "git is not installed", "install git (apt-get install git)", False)
    proc = subprocess.run(
        [git, "-C", str(workspace), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        hint = "run `git init` here: tasks get their own branch of the workspace's repository"
        return Check("git repository", False, f"{workspace} is not inside a git repository", hint, False)
    return Check("git repository", True, f"top level {proc.stdout.strip()}", required=False)


def _journal_detail(state: Path) -> str:
    """What the journal holds, read without locking or repairing anything; raises on damage."""
    snap_seq = 0
    snapshot = state / SNAPSHOT_NAME
    if snapshot.exists():
        snap_seq, _ = decode_snapshot(snapshot.read_bytes(), str(snapshot))
    journal = state / JOURNAL_NAME
    data = journal.read_bytes() if journal.exists() else b""
    found = scan(data, 0, 0, str(journal))
    last = max([snap_seq, *(rec.seq for _, rec in found.records)])
    detail = f"{state}: {len(found.records)} records, last seq {last}"
    if found.torn is not None:
        detail += f"; torn tail at byte {found.torn.offset} (set aside on the next daemon start)"
    return detail


def check_journal(workspace: Path) -> Check:
    state = workspace / ".dockyard" / "state"
    if not state.exists():
        return Check("journal", True, f"{state} not created yet (the first daemon start makes it)")
    try:
        detail = _journal_detail(state)
    except DockyardError as exc:
        return Check("journal", False, exc.message, "move the damaged file aside (see the message)")
    except OSError as exc:
        return Check("journal", False, f"{state}: {exc.strerror or exc}", "fix the permissions of .dockyard/state")
    if not os.access(state, os.W_OK):
        return Check("journal", False, f"{detail}; not writable", "fix the permissions of .dockyard/state")
    return Check("journal", True, detail)


def run_checks(workspace: Path) -> list[Check]:
    engine, client = check_engine()
    checks = [
        check_python(),
        engine,
        check_image(client, sandbox_tag(), True, "run `dockyard image build`"),
        check_image(client, test_tag(), False, "run `dockyard image build --test-image` (tests only)"),
        check_workspace(workspace),
        check_git(workspace),
        check_journal(workspace),
    ]
    if client is not None:
        client.close()
    return checks


def render(console: Console, checks: list[Check]) -> None:
    width = max(len(c.name) for c in checks)
    for check in checks:
        mark = "[green]✓[/]" if check.ok else ("[red]✗[/]" if check.required else "[yellow]![/]")
        console.print(f"{mark} {check.name.ljust(width)}  {escape(check.detail)}")
        if not check.ok and check.hint:
            console.print(f"  {' ' * width}  [dim]fix:[/] {escape(check.hint)}")


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run_checks(workspace_of(args))
    console = stdout_console()
    render(console, checks)
    failed = [c.name for c in checks if c.failed]
    if failed:
        console.print(f"[red]{len(failed)} required check(s) failed:[/] {', '.join(failed)}")
        return 1
    console.print("[green]all required checks passed[/]")
    return 0
