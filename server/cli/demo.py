"""``dockyard demo``: the main job end to end, in a throwaway git repository, with timings.

Starts a daemon for a temporary repository, creates a task on the sandbox image, runs a few commands with
their output streamed, shows status and the container's hardening, stops and removes the task, and prints
a report. Everything it made is removed again, also when a step fails (then it exits 1 naming the step).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dockyard.protocol import methods as m
from dockyard.server.adapters.docker import DockerAdapter
from dockyard.server.adapters.docker_engine import Engine
from dockyard.server.cli.common import daemon, stdout_console
from dockyard.server.cli.errors import CliError, describe_rpc_error
from dockyard.server.cli.exec_cmd import exec_params, run_exec
from dockyard.server.cli.format import rows_grid, security_facts, security_table, stats_rows
from dockyard.server.cli.rpc import DaemonClient, RpcError
from dockyard.server.errors import DockyardError
from dockyard.server.services.tasks import volume_names

COMMANDS = ("uname -a", "python3 -c 'print(sum(range(10**6)))'", "id")
# Probes of the hardening from inside; each must fail (write to the root fs) or show only loopback.
READ_ONLY_PROBE = "touch /dockyard-probe 2>&1 && echo 'root fs is WRITABLE' || true"
NETWORK_PROBE = "ls /sys/class/net"
GIT_ENV = ("-c", "user.name=Dockyard Demo", "-c", "user.email=demo@dockyard.invalid", "-c", "commit.gpgsign=false")


class Demo:
    def __init__(self, console: Console, args: argparse.Namespace) -> None:
        self.console = console
        self.args = args
        self.step = "starting"
        self.timings: list[tuple[str, float, str]] = []  # (what, client ms, note)
        self.task_id: str | None = None
        self.removed = False

    # --- plumbing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def stage(self, title: str) -> Iterator[None]:
        self.step = title
        self.console.rule(f"[bold]{escape(title)}", align="left")
        yield

    def timed(self, what: str, client: DaemonClient, method: str, params: dict[str, Any], note: str = "") -> Any:
        started = time.monotonic()
        result = client.request(method, params, timeout=300)
        self.timings.append((what, (time.monotonic() - started) * 1000, note))
        return result

    # --- steps -------------------------------------------------------------------------------------
    def make_repo(self, root: Path) -> Path:
        repo = root / "repo"
        repo.mkdir()
        (repo / "README.md").write_text("# demo\n\nA throwaway repository made by `dockyard demo`.\n")
        git = shutil.which("git")
        if git is None:
            raise CliError("git is not installed (the demo makes a git repository); install git")
        for argv in (["init", "-q"], ["add", "README.md"], ["commit", "-q", "-m", "demo: first commit"]):
            subprocess.run([git, *GIT_ENV, *argv], cwd=repo, check=True, capture_output=True)
        self.console.print(f"git repository with one commit at {escape(str(repo))}")
        return repo

    def create(self, client: DaemonClient) -> dict[str, Any]:
        params = {"title": "dockyard demo", "labels": {"demo": "true"}}
        task: dict[str, Any] = self.timed("createTask", client, m.CREATE_TASK, params, "container created + started")
        self.task_id = task["id"]
        res = task.get("resources", {})
        self.console.print(
            f"task [bold]{task['id']}[/] is {task['state']} on {escape(task['image'])} "
            f"({res.get('memoryMb')} MiB, {res.get('cpus')} CPU, {res.get('pids')} pids, network {task['network']})"
        )
        return task

    def run_command(self, client: DaemonClient, command: str, record: bool = True) -> dict[str, Any]:
        assert self.task_id is not None
        self.console.print(f"[bold cyan]$ {escape(command)}[/]")
        outcome = run_exec(client, exec_params(self.task_id, command, None, 60))
        result = outcome.result
        if record:
            note = f"in container {result.get('durationMs', '?')} ms"
            self.timings.append((f"exec {command.split()[0]}", outcome.wall_ms, note))
        if outcome.exit_code != 0 and record:
            raise CliError(f"`{command}` exited {outcome.exit_code}")
        return result

    def status(self, client: DaemonClient) -> dict[str, Any]:
        params = {"taskId": self.task_id, "include": ["stats", "inspect"]}
        status: dict[str, Any] = self.timed("getTask", client, m.GET_TASK, params, "with stats + inspect")
        inspect = status.get("inspect") or {}
        self.console.print(f"container {escape(str(inspect.get('status')))}, health {inspect.get('health') or '-'}")
        if status.get("stats"):
            self.console.print(rows_grid(stats_rows(status["stats"])))
        return status

    def security(self, client: DaemonClient, inspect: dict[str, Any]) -> None:
        self.console.print(security_table(inspect))
        weak = [what for what, _value, ok in security_facts(inspect) if not ok]
        probe = self.run_command(client, READ_ONLY_PROBE, record=False)
        if "WRITABLE" in probe.get("stdout", ""):
            weak.append("root fs writable from inside")
        nets = self.run_command(client, NETWORK_PROBE, record=False).get("stdout", "").split()
        if any(name != "lo" for name in nets):
            weak.append(f"network interfaces {nets}")
        if weak:
            raise CliError(f"the container is not hardened as it should be: {', '.join(weak)}")
        self.console.print("[green]✓[/] non-root, all capabilities dropped, read-only root, no network but loopback")

    def finish(self, client: DaemonClient) -> None:
        assert self.task_id is not None
        task = self.timed("stopTask", client, m.STOP_TASK, {"taskId": self.task_id, "timeoutS": 5})
        self.console.print(f"task {self.task_id} is {task['state']}")
        self.timed("removeTask", client, m.REMOVE_TASK, {"taskId": self.task_id})
        self.removed = True
        self.console.print(f"task {self.task_id} removed (container and volumes)")

    def cleanup(self, client: DaemonClient) -> None:
        """After a failure: force-remove the task so nothing is left behind."""
        if self.task_id is None or self.removed or client.closed:
            return
        with contextlib.suppress(RpcError, TimeoutError, OSError):
            client.request(m.REMOVE_TASK, {"taskId": self.task_id, "force": True}, timeout=60)
            self.console.print(f"[dim]cleaned up task {self.task_id}[/]")

    def sweep(self, workspace: Path) -> None:
        """Last safety net, after the daemon is gone: nothing labelled with the throwaway workspace survives."""
        docker = DockerAdapter(Engine(timeout=30))
        try:
            leftovers = docker.task_containers(str(workspace))
            task_ids = {str(c["task"]) for c in leftovers if c.get("task")}
            task_ids |= {self.task_id} if self.task_id else set()
            for container in leftovers:
                docker.remove_container(container["id"])
                self.console.print(f"[yellow]removed a leftover container {container['id'][:12]}[/]")
            for task_id in task_ids:
                for volume in volume_names(task_id):
                    docker.remove_volume(volume)
        except DockyardError as exc:
            self.console.print(f"[yellow]could not sweep {escape(str(workspace))}: {escape(exc.message)}[/]")
        finally:
            docker.engine.forget()

    # --- the whole thing ---------------------------------------------------------------------------
    def drive(self, client: DaemonClient) -> None:
        with self.stage("2. create a task (sandbox image, hardened container)"):
            self.create(client)
        with self.stage("3. run commands in it (output streamed as it comes)"):
            for command in COMMANDS:
                self.run_command(client, command)
        with self.stage("4. status and stats"):
            status = self.status(client)
        with self.stage("5. security facts"):
            self.security(client, status.get("inspect") or {})
        with self.stage("6. stop and remove"):
            self.finish(client)

    def start_daemon(self, stack: contextlib.ExitStack, repo: Path) -> DaemonClient:
        started = time.monotonic()
        # the task's checkout goes to the scratch dir too, not to the user's data dir
        env = {"DOCKYARD_DATA_DIR": str(repo.parent / "data")}
        client = stack.enter_context(daemon(self.args, workspace=repo, env=env))
        self.timings.append(("daemon start + initialize", (time.monotonic() - started) * 1000, "new process"))
        caps = client.initialize_result.get("capabilities", {}).get("experimental", {}).get("dockyard", {})
        self.console.print(f"daemon up for {escape(str(repo))}: protocol {caps.get('protocolVersion', '?')}")
        return client

    def run(self, root: Path) -> float:
        started = time.monotonic()
        with self.stage("1. a throwaway git repository and a daemon for it"):
            repo = self.make_repo(root)
        with contextlib.ExitStack() as stack:
            stack.callback(self.sweep, repo.resolve())
            client = self.start_daemon(stack, repo)
            try:
                self.drive(client)
            finally:
                self.cleanup(client)
        return (time.monotonic() - started) * 1000

    def report(self, total_ms: float) -> None:
        table = Table(title="demo report", title_justify="left", header_style="bold")
        table.add_column("step")
        table.add_column("round trip", justify="right")
        table.add_column("note", style="dim")
        for what, ms, note in self.timings:
            table.add_row(what, f"{ms:.0f} ms", note)
        table.add_row("[bold]total[/]", f"[bold]{total_ms / 1000:.1f} s[/]", "")
        self.console.print(table)
        self.console.print("[green]✓ demo finished: task created, used, inspected, stopped and removed[/]")


def cmd_demo(args: argparse.Namespace) -> int:
    console = stdout_console()
    demo = Demo(console, args)
    with tempfile.TemporaryDirectory(prefix="dockyard-demo-") as scratch:
        try:
            total = demo.run(Path(scratch))
        except RpcError as exc:
            raise CliError(f"demo failed at step {demo.step!r}: {describe_rpc_error(exc)}") from None
        except (CliError, DockyardError) as exc:
            raise CliError(f"demo failed at step {demo.step!r}: {exc.message}") from None
        except (subprocess.CalledProcessError, OSError, TimeoutError) as exc:
            raise CliError(f"demo failed at step {demo.step!r}: {exc}") from None
    demo.report(total)
    return 0
