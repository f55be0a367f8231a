"""``dockyard task new|ls|show|logs|stop|start|pause|resume|rm`` (diff/integrate/memory/path: git_cmd)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.text import Text

from dockyard.protocol import methods as m
from dockyard.server.cli.common import daemon, print_json, stdout_console
from dockyard.server.cli.format import resources_text, state_text, status_view, tasks_table
from dockyard.server.cli.git_format import created_git_lines
from dockyard.server.cli.parser import create_params, list_params
from dockyard.server.cli.rpc import DaemonClient

LIFECYCLE_METHODS = {
    "stop": (m.STOP_TASK, "stopped"),
    "start": (m.START_TASK, "started"),
    "pause": (m.PAUSE_TASK, "paused"),
    "resume": (m.RESUME_TASK, "resumed"),
    "rm": (m.REMOVE_TASK, "removed"),
}
# States in which the task has a container worth inspecting; stats and processes only while it runs.
HAS_CONTAINER = ("creating", "running", "paused", "stopped", "failed")
LIVE = ("running", "paused")


def cmd_new(args: argparse.Namespace) -> int:
    with daemon(args) as client:
        task: dict[str, Any] = client.request(m.CREATE_TASK, create_params(args), timeout=300)
    if args.json:
        print_json(task)
        return 0
    line = Text.assemble(
        ("created ", ""),
        (task["id"], "bold"),
        f"  {task.get('title', '')!r}  ",
        state_text(task.get("state", ""), task.get("reason")),
        f"  {task.get('image', '')}  ({resources_text(task.get('resources'))}, network {task.get('network', '')})",
    )
    console = stdout_console()
    console.print(line)
    for extra in created_git_lines(task, args.include_uncommitted, args.base_ref):
        console.print(extra)
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    with daemon(args) as client:
        result: dict[str, Any] = client.request(m.LIST_TASKS, list_params(args))
    tasks = sorted(result.get("tasks", []), key=lambda t: str(t.get("createdAt", "")))
    if args.json:
        print_json(tasks)
        return 0
    console = stdout_console()
    if not tasks:
        console.print("no tasks" + ("" if args.all or args.state else " (try --all)"), style="dim")
        return 0
    console.print(tasks_table(tasks))
    return 0


def task_status(client: DaemonClient, task_id: str) -> dict[str, Any]:
    """getTask with inspect (and stats/top while it runs) when the task still has a container."""
    status: dict[str, Any] = client.request(m.GET_TASK, {"taskId": task_id})
    state = status.get("task", {}).get("state")
    if state in HAS_CONTAINER and status.get("task", {}).get("containerId"):
        include = ["inspect", "stats", "top"] if state in LIVE else ["inspect"]
        status = client.request(m.GET_TASK, {"taskId": task_id, "include": include})
    return status


def cmd_show(args: argparse.Namespace) -> int:
    with daemon(args) as client:
        status = task_status(client, args.task_id)
    if args.json:
        print_json(status)
    else:
        stdout_console().print(status_view(status))
    return 0


def cmd_logs(args: argparse.Namespace) -> int:
    params: dict[str, Any] = {"taskId": args.task_id}
    if args.tail is not None:
        params["tail"] = args.tail
    with daemon(args) as client:
        result: dict[str, Any] = client.request(m.LOGS, params)
    text = str(result.get("text", ""))
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
    sys.stdout.flush()
    return 0


def cmd_lifecycle(args: argparse.Namespace) -> int:
    method, done = LIFECYCLE_METHODS[args.action]
    params: dict[str, Any] = {"taskId": args.task_id}
    if args.action == "rm" and args.force:
        params["force"] = True
    if args.action == "rm" and args.delete_branch:
        params["deleteBranch"] = True
    with daemon(args) as client:
        result: dict[str, Any] = client.request(method, params, timeout=300)
    if args.json:
        print_json(result)
        return 0
    line = Text.assemble(f"{done} ", (args.task_id, "bold"))
    if "state" in result:
        line.append("  ")
        line.append(state_text(result["state"], result.get("reason")))
    stdout_console().print(line)
    return 0
