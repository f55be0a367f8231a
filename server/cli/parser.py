"""The ``dockyard`` argument parser. Commands name their handler as ``module:function`` (imported on use),
so ``dockyard serve`` does not pay for rich or docker-py at start."""

from __future__ import annotations

import argparse
from typing import Any

from dockyard.protocol.task import TaskState

CLI = "dockyard.server.cli"
LIFECYCLE = ("stop", "start", "pause", "resume", "rm")
STRATEGIES = ("merge", "squash", "rebase", "ff-only")


def key_value(text: str) -> tuple[str, str]:
    """``K=V`` -> ``(K, V)``; the value may be empty and may contain ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _client_options() -> argparse.ArgumentParser:
    """``--workspace``/``--debug`` also accepted after the subcommand (SUPPRESS keeps the global value)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workspace", default=argparse.SUPPRESS, help="workspace root (default: cwd)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the daemon's log")
    return common


def _command(sub: Any, name: str, run: str, help_text: str, **kw: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text, **kw)
    parser.set_defaults(run=run)
    return parser


def _add_task_new(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, "new", f"{CLI}.tasks:cmd_new", "create a task (a hardened container)", parents=[common])
    p.add_argument("title")
    p.add_argument("--image", help="image (default: the workspace's sandbox image)")
    p.add_argument("--memory", type=positive_int, metavar="MB", help="memory limit in MiB")
    p.add_argument("--cpus", type=positive_float, metavar="N", help="CPU quota")
    p.add_argument("--pids", type=positive_int, metavar="N", help="process limit")
    p.add_argument("--network", metavar="N", help="network (default none; others must be allowed by config)")
    p.add_argument("--env", type=key_value, action="append", default=[], metavar="K=V", help="env var (repeat)")
    p.add_argument("--label", type=key_value, action="append", default=[], metavar="K=V", help="label (repeat)")
    p.add_argument("--from", dest="base_ref", metavar="REF", help="start the task branch here (default: HEAD)")
    p.add_argument(
        "--include-uncommitted",
        action="store_true",
        help="carry the workspace's uncommitted changes (tracked and untracked) into the task",
    )
    p.add_argument("--json", action="store_true", help="print the task as JSON")


def _add_task_git(sub: Any, common: argparse.ArgumentParser) -> None:
    what = "what the task branch changes against its target"
    p = _command(sub, "diff", f"{CLI}.git_cmd:cmd_diff", what, parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--stat", action="store_true", help="only the per-file counts, no patch")
    p.add_argument("--json", action="store_true")
    what = "bring the task's commits into its target branch"
    p = _command(sub, "integrate", f"{CLI}.git_cmd:cmd_integrate", what, parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--strategy", choices=STRATEGIES, default="merge", help="how (default: merge)")
    p.add_argument("--into", dest="target", metavar="BRANCH", help="target branch (default: where the task started)")
    p.add_argument("--json", action="store_true")
    what = "print the task's MEMORY.md (or PLAN.md)"
    p = _command(sub, "memory", f"{CLI}.git_cmd:cmd_memory", what, parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--plan", action="store_true", help="PLAN.md instead of MEMORY.md")
    what = "print the task's checkout path (container-written: see docs/git.md before running git in it)"
    p = _command(sub, "path", f"{CLI}.git_cmd:cmd_path", what, parents=[common])
    p.add_argument("task_id", metavar="ID")


def _add_task_reads(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, "ls", f"{CLI}.tasks:cmd_ls", "list tasks", parents=[common])
    p.add_argument("--all", action="store_true", help="include removed tasks")
    p.add_argument("--state", action="append", choices=[s.value for s in TaskState], help="only this state (repeat)")
    p.add_argument("--json", action="store_true")
    what = "a task's fields, container, stats and processes"
    p = _command(sub, "show", f"{CLI}.tasks:cmd_show", what, parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--json", action="store_true")
    p = _command(sub, "logs", f"{CLI}.tasks:cmd_logs", "the main process's output", parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--tail", type=int, metavar="N", help="last N lines only")


def _add_task_processes(sub: Any, common: argparse.ArgumentParser) -> None:
    p = _command(sub, "exec", f"{CLI}.exec_cmd:cmd_exec", "run a command, streaming its output", parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--timeout", type=positive_float, metavar="S", help="kill it after S seconds")
    p.add_argument("--cwd", metavar="D", help="working directory in the container")
    p.add_argument("command", nargs="+", metavar="CMD", help="argv (put it after --)")
    p = _command(sub, "shell", f"{CLI}.shell:cmd_shell", "an interactive shell (PTY) in the task", parents=[common])
    p.add_argument("task_id", metavar="ID")
    p.add_argument("--command", dest="shell_command", metavar="CMD", help="run CMD (sh -c) instead of a login shell")


def _add_task_lifecycle(sub: Any, common: argparse.ArgumentParser) -> None:
    for name in LIFECYCLE:
        what = "remove the task and its container" if name == "rm" else f"{name} the task's container"
        p = _command(sub, name, f"{CLI}.tasks:cmd_lifecycle", what, parents=[common])
        p.set_defaults(action=name)
        p.add_argument("task_id", metavar="ID")
        p.add_argument("--json", action="store_true")
        if name == "rm":
            p.add_argument("--force", action="store_true", help="remove even while it runs")
            what = "delete its branch too (refused with unintegrated commits, unless --force)"
            p.add_argument("--delete-branch", action="store_true", help=what)


def _add_task(sub: Any, common: argparse.ArgumentParser) -> None:
    task = sub.add_parser("task", help="create and drive tasks")
    tsub = task.add_subparsers(dest="task_command", required=True, metavar="COMMAND")
    _add_task_new(tsub, common)
    _add_task_reads(tsub, common)
    _add_task_processes(tsub, common)
    _add_task_git(tsub, common)
    _add_task_lifecycle(tsub, common)


def _add_serve(sub: Any) -> None:
    serve = _command(sub, "serve", f"{CLI}.main:serve", "run the daemon (JSON-RPC, LSP framing)")
    serve.add_argument("--stdio", action="store_true", default=True, help="speak on stdin/stdout (the only mode)")
    serve.add_argument("--workspace", default=argparse.SUPPRESS, help="workspace root (default: initialize rootUri)")
    serve.add_argument("--max-frame", type=int, default=16 * 1024 * 1024, help="largest accepted frame in bytes")
    serve.add_argument("--log-level", default="warning")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockyard", description="Hardened per-task containers for coding work.")
    parser.add_argument("--workspace", default=None, help="workspace root for client commands (default: cwd)")
    parser.add_argument("--debug", action="store_true", help="let the daemon's log through to stderr")
    common = _client_options()
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(sub)
    _add_task(sub, common)
    image = sub.add_parser("image", help="the images tasks run on")
    isub = image.add_subparsers(dest="image_command", required=True, metavar="COMMAND")
    p = _command(isub, "build", f"{CLI}.image_cmd:cmd_build", "build the sandbox image if missing")
    p.add_argument("--force", action="store_true", help="rebuild even if it exists")
    p.add_argument("--test-image", action="store_true", help="the busybox test image instead")
    _command(sub, "doctor", f"{CLI}.doctor:cmd_doctor", "check that this machine can run tasks", parents=[common])
    demo = _command(sub, "demo", f"{CLI}.demo:cmd_demo", "the main job end to end, in a throwaway git repository")
    demo.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the daemon's log")
    return parser


def create_params(args: argparse.Namespace) -> dict[str, Any]:
    """``task new`` options -> ``dockyard/createTask`` params (camelCase, only what was given)."""
    params: dict[str, Any] = {"title": args.title}
    if args.image:
        params["image"] = args.image
    resources = {
        key: value
        for key, value in (("memoryMb", args.memory), ("cpus", args.cpus), ("pids", args.pids))
        if value is not None
    }
    if resources:
        params["resources"] = resources
    if args.network:
        params["network"] = args.network
    if args.env:
        params["env"] = dict(args.env)
    if args.label:
        params["labels"] = dict(args.label)
    if args.base_ref is not None:
        params["baseRef"] = args.base_ref
    if args.include_uncommitted:
        params["includeUncommitted"] = True
    return params


def list_params(args: argparse.Namespace) -> dict[str, Any]:
    """``task ls`` options -> ``dockyard/listTasks`` params; ``--all`` asks for every state, removed too."""
    if args.state:
        return {"states": list(dict.fromkeys(args.state))}
    if args.all:
        return {"states": [s.value for s in TaskState]}
    return {}
