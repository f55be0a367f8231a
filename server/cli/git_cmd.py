"""``dockyard task diff|integrate|memory|path``: the git layer from a terminal.

Everything a task wrote (file names, patches, memory files) is the container's output. It is printed as is
when stdout is a pipe or a file (a patch must stay exact), and with control characters made visible when
stdout is a terminal, so a hostile file name or patch cannot drive the terminal with escape sequences.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.syntax import Syntax

from dockyard.protocol import methods as m
from dockyard.protocol.errors import ErrorCode
from dockyard.server.cli.common import daemon, print_json, stdout_console, workspace_of
from dockyard.server.cli.errors import CliError
from dockyard.server.cli.git_format import (
    diff_summary,
    files_table,
    integration_lines,
    memory_note,
    visible,
)
from dockyard.server.cli.rpc import DaemonClient, RpcError
from dockyard.server.errors import DockyardError
from dockyard.server.services.config import load_config
from dockyard.server.services.memory import MEMORY_DIR, read_untrusted

DIFF_TIMEOUT_S = 300  # the daemon first syncs the task branch out of the container
INTEGRATE_TIMEOUT_S = 900  # auto-commit, sync, pre-/post-integrate hooks inside the container


def task_of(client: DaemonClient, task_id: str) -> dict[str, Any]:
    """The task, removed ones too (getTask does not return those; the history of listTasks does)."""
    try:
        status: dict[str, Any] = client.request(m.GET_TASK, {"taskId": task_id})
    except RpcError as exc:
        if exc.code != ErrorCode.TASK_NOT_FOUND:
            raise
        listed: dict[str, Any] = client.request(m.LIST_TASKS, {"states": ["removed"]})
        for task in listed.get("tasks") or []:
            if task.get("id") == task_id:
                return dict(task)
        raise
    return dict(status.get("task") or {})


def _keep_memory(args: argparse.Namespace) -> bool:
    try:
        return load_config(workspace_of(args), "").git.keep_memory_on_integrate
    except DockyardError:
        return False


def print_patch(console: Console, patch: str) -> None:
    """Highlighted on a terminal; byte for byte otherwise (``> x.patch`` stays appliable)."""
    if console.is_terminal:
        syntax = Syntax(visible(patch.rstrip("\n")), "diff", theme="ansi_dark", background_color="default")
        console.print(syntax)
        return
    sys.stdout.write(patch)
    sys.stdout.flush()


def cmd_diff(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"taskId": args.task_id}
    if args.stat:
        params["stat"] = True
    with daemon(args) as client:
        diff: dict[str, Any] = client.request(m.DIFF_TASK, params, timeout=DIFF_TIMEOUT_S)
    if args.json:
        print_json(diff)
        return 0
    console = stdout_console()
    console.print(diff_summary(diff))
    files = diff.get("files") or []
    if not files:
        console.print("no changes", style="dim")
        return 0
    console.print(files_table(files))
    note = memory_note(files, _keep_memory(args))
    if note:
        console.print(note, style="dim")
    if diff.get("patch"):
        console.print()
        print_patch(console, str(diff["patch"]))
    if diff.get("truncated"):
        sys.stderr.write(
            f"dockyard: the patch was cut at 1 MiB; the whole of it: "
            f"git diff {diff.get('base', '')} {diff.get('head', '')}  (in the workspace)\n"
        )
    return 0


def _conflicted(task_id: str, err: RpcError) -> int:
    """-32017: the files one per line on stdout (for scripts), the explanation on stderr; exit 1."""
    data = err.data if isinstance(err.data, dict) else {}
    files = [str(f) for f in data.get("files") or []]
    sys.stderr.write(
        f"dockyard: integrating {task_id} conflicts in {len(files)} file(s); nothing was changed, "
        "the task is now conflicted\n"
        "dockyard: its branch is in your repository (merge it by hand), or change the task and integrate again\n"
    )
    sys.stderr.flush()
    tty = sys.stdout.isatty()
    for name in files:
        sys.stdout.write((visible(name) if tty else name) + "\n")
    sys.stdout.flush()
    return 1


def cmd_integrate(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"taskId": args.task_id, "strategy": args.strategy}
    if args.target is not None:
        params["target"] = args.target
    with daemon(args) as client:
        try:
            result: dict[str, Any] = client.request(m.INTEGRATE_TASK, params, timeout=INTEGRATE_TIMEOUT_S)
        except RpcError as exc:
            if exc.code != ErrorCode.MERGE_CONFLICT:
                raise
            return _conflicted(args.task_id, exc)
    if args.json:
        print_json(result)
        return 0
    console = stdout_console()
    for line in integration_lines(result):
        console.print(line)
    return 0


def read_memory(workspace: Path, task: dict[str, Any], name: str) -> bytes | None:
    """The task's file: from its checkout while it exists (read as hostile input: no symlinks, regular
    files only, capped, like the daemon's mirror does), else the mirror under ``.dockyard/tasks/<id>/``."""
    checkout = task.get("checkoutPath")
    if checkout and Path(checkout).is_dir():
        data = read_untrusted(Path(checkout), f"{MEMORY_DIR}/{name}")
        if data is not None:
            return data
    mirror_dir = workspace / ".dockyard" / "tasks" / str(task.get("id", ""))
    return read_untrusted(mirror_dir, name) if mirror_dir.is_dir() else None


def cmd_memory(args: argparse.Namespace) -> int:
    workspace = workspace_of(args)
    with daemon(args, workspace=workspace) as client:
        task = task_of(client, args.task_id)
    name = "PLAN.md" if args.plan else "MEMORY.md"
    if not task.get("branch"):
        raise CliError(f"task {args.task_id} has no branch (its workspace is not a git repository), so no {name}")
    data = read_memory(workspace, task, name)
    if data is None:
        sys.stderr.write(f"dockyard: no {name} for {args.task_id} yet\n")
        return 0
    text = data.decode("utf-8", "replace")
    sys.stdout.write(visible(text) if sys.stdout.isatty() else text)
    if text and not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()
    return 0


def cmd_path(args: argparse.Namespace) -> int:
    with daemon(args) as client:
        task = task_of(client, args.task_id)
    path = task.get("checkoutPath")
    if not path:
        raise CliError(f"task {args.task_id} has no checkout (its workspace is not a git repository)")
    if not Path(path).is_dir():
        raise CliError(f"the checkout of {args.task_id} no longer exists ({path}); the task is {task.get('state')}")
    sys.stdout.write(f"{path}\n")
    sys.stdout.flush()
    return 0
