"""The ``dockyard`` CLI end to end: real processes (``python -m dockyard.server ...``), real daemon, real engine.

Every CLI call starts its own daemon for the test's workspace, as a user's shell would. Each test's
containers and volumes carry a ``dockyard.workspace`` label under the test's tmp dir and are removed
afterwards, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from dockyard.server.cli import demo, main

pytestmark = pytest.mark.docker

TESTBOX = "dockyard/testbox:0.1.0"
CLI = [sys.executable, "-m", "dockyard.server"]
WORKSPACE_LABEL = "dockyard.workspace"


# --- fixtures -----------------------------------------------------------------------------------------------
def labelled_under(engine: docker.DockerClient, root: Path) -> tuple[list[Any], list[Any]]:
    """Containers and volumes whose workspace label lies under ``root``."""
    prefix = str(root)
    containers = [
        c
        for c in engine.containers.list(all=True, filters={"label": WORKSPACE_LABEL})
        if c.labels.get(WORKSPACE_LABEL, "").startswith(prefix)
    ]
    volumes = [
        v
        for v in engine.volumes.list(filters={"label": WORKSPACE_LABEL})
        if (v.attrs.get("Labels") or {}).get(WORKSPACE_LABEL, "").startswith(prefix)
    ]
    return containers, volumes


def remove_under(engine: docker.DockerClient, root: Path) -> None:
    containers, volumes = labelled_under(engine, root)
    for item in [*containers, *volumes]:
        with contextlib.suppress(docker.errors.NotFound):
            item.remove(force=True)


@pytest.fixture
def engine() -> Iterator[docker.DockerClient]:
    """A live engine, or an error: never a skip."""
    client = docker.from_env(timeout=30)
    client.ping()
    yield client
    client.close()


@pytest.fixture
def root(tmp_path: Path, engine: docker.DockerClient) -> Iterator[Path]:
    """This test's tmp dir; everything labelled with a workspace under it is removed at the end."""
    resolved = tmp_path.resolve()
    try:
        yield resolved
    finally:
        remove_under(engine, resolved)


@pytest.fixture
def ws(root: Path) -> Path:
    path = root / "ws"
    path.mkdir()
    return path


def cli(ws: Path | None, *args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    workspace = ["--workspace", str(ws)] if ws is not None else []
    return subprocess.run([*CLI, *workspace, *args], capture_output=True, text=True, timeout=timeout, **kwargs)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def tasks(ws: Path, *extra: str) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in json.loads(ok(cli(ws, "task", "ls", "--json", *extra)))}


def new_task(ws: Path, *extra: str) -> dict[str, Any]:
    task: dict[str, Any] = json.loads(ok(cli(ws, "task", "new", "cli e2e", "--image", TESTBOX, "--json", *extra)))
    return task


def readline_within(stream: Any, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, f"no output within {timeout}s"
    return str(stream.readline())


# --- the demo (CI runs this one) -------------------------------------------------------------------------
def test_demo_runs_and_reports(root: Path, engine: docker.DockerClient) -> None:
    scratch = root / "tmp"
    scratch.mkdir()
    proc = cli(None, "demo", timeout=300, env={**os.environ, "TMPDIR": str(scratch)})
    out = ok(proc)
    for part in ("daemon up", "task t-", "is running on dockyard/sandbox:", "$ uname -a", "Linux", "499999500000"):
        assert part in out, part
    for part in ("uid=1000", "read-only root fs", "Read-only file system", "is stopped", "removed"):
        assert part in out, part
    for part in ("demo report", "createTask", "exec python3", "getTask", "removeTask", "total", "demo finished"):
        assert part in out, part
    assert "✗" not in out
    assert labelled_under(engine, scratch) == ([], []), "the demo left containers or volumes behind"
    assert list(scratch.iterdir()) == [], "the demo left its throwaway repository behind"


def test_demo_failure_names_the_step_and_cleans_up(
    root: Path, engine: docker.DockerClient, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process (so its lines count for coverage): a failing command stops the demo with exit 1."""
    scratch = root / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(demo, "COMMANDS", ("id", "exit 7"))
    assert main.main(["demo"]) == 1
    captured = capsys.readouterr()
    assert "uid=1000" in captured.out and "cleaned up task t-" in captured.out
    assert captured.err == "dockyard: demo failed at step '3. run commands in it (output streamed as it comes)': " + (
        "`exit 7` exited 7\n"
    )
    assert labelled_under(engine, scratch) == ([], [])
    assert list(scratch.iterdir()) == []


# --- task lifecycle ---------------------------------------------------------------------------------------
def test_task_lifecycle(ws: Path, engine: docker.DockerClient) -> None:
    task = new_task(ws, "--label", "com.example.owner=alice", "--env", "MY_VAR=1", "--memory", "128")
    tid = task["id"]
    assert task["state"] == "running" and task["labels"]["com.example.owner"] == "alice"
    assert task["resources"]["memoryMb"] == 128 and task["envKeys"] == ["MY_VAR"]
    assert tasks(ws)[tid]["state"] == "running"
    table = ok(cli(ws, "task", "ls"))
    assert tid in table and "running" in table and "cli e2e" in table

    shown = json.loads(ok(cli(ws, "task", "show", tid, "--json")))
    assert shown["inspect"]["readOnlyRootfs"] and shown["inspect"]["capDrop"] == ["ALL"] and "stats" in shown
    assert "security" in ok(cli(ws, "task", "show", tid))

    ran = cli(ws, "task", "exec", tid, "--", "sh", "-c", "echo hi; echo oops >&2; exit 3")
    assert (ran.returncode, ran.stdout, ran.stderr) == (3, "hi\n", "oops\n")

    ok(cli(ws, "task", "stop", tid))
    assert tasks(ws)[tid]["state"] == "stopped"
    refused = cli(ws, "task", "exec", tid, "--", "true")
    assert refused.returncode == 1 and refused.stderr.startswith("dockyard: cannot exec in task")
    ok(cli(ws, "task", "start", tid))
    assert tasks(ws)[tid]["state"] == "running"
    assert ok(cli(ws, "task", "exec", tid, "--", "echo", "back")) == "back\n"

    kept = cli(ws, "task", "rm", tid)
    assert kept.returncode == 1 and "stop it first, or pass force" in kept.stderr
    ok(cli(ws, "task", "rm", "--force", tid))
    assert tid not in tasks(ws)
    assert tasks(ws, "--all")[tid]["state"] == "removed"
    assert engine.containers.list(all=True, filters={"label": f"dockyard.task={tid}"}) == []


def test_exec_streams_live_and_ctrl_c_cancels(ws: Path) -> None:
    tid = new_task(ws)["id"]
    slow = subprocess.Popen(
        [*CLI, "--workspace", str(ws), "task", "exec", tid, "--", "sh", "-c", "echo first; sleep 4; echo second"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert readline_within(slow.stdout, 20) == "first\n"
        assert slow.poll() is None, "output arrived only after the command ended: not streamed"
        rest, _ = slow.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            slow.kill()
    assert (slow.returncode, rest) == (0, "second\n")

    long = subprocess.Popen(
        [*CLI, "--workspace", str(ws), "task", "exec", tid, "--", "sh", "-c", "echo started; exec sleep 300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert readline_within(long.stdout, 20) == "started\n"
        started = time.monotonic()
        long.send_signal(signal.SIGINT)
        _, err = long.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            long.kill()
    assert long.returncode == 130 and "cancelling" in err
    assert time.monotonic() - started < 20
    assert "sleep 300" not in ok(cli(ws, "task", "exec", tid, "--", "ps")), "the cancelled command still runs"


def test_shell_without_a_terminal_forwards_lines(ws: Path) -> None:
    tid = new_task(ws)["id"]
    proc = cli(ws, "task", "shell", tid, input="echo $((6*7))\nexit 4\n", timeout=60)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "42" in proc.stdout


# --- doctor and errors ------------------------------------------------------------------------------------
def test_doctor_passes_here(ws: Path) -> None:
    out = ok(cli(ws, "doctor"))
    for line in ("✓ python", "✓ docker engine", "✓ sandbox image", "✓ workspace writable", "✓ journal"):
        assert line in out, line
    assert "all required checks passed" in out


def test_unknown_task_is_exit_1_with_the_message(ws: Path) -> None:
    for args in (
        ["task", "show", "t-000000"],
        ["task", "exec", "t-000000", "--", "true"],
        ["task", "stop", "t-000000"],
    ):
        proc = cli(ws, *args)
        assert (proc.returncode, proc.stderr) == (1, "dockyard: task 't-000000' not found\n"), args
    malformed = cli(ws, "task", "show", "nope")
    assert malformed.returncode == 1 and "taskId" in malformed.stderr
    refused = cli(ws, "task", "new", "x", "--network", "host")
    assert refused.returncode == 1 and refused.stderr.rstrip().endswith("(field: network)")
    usage = cli(ws, "task", "new")
    assert usage.returncode == 2 and "required" in usage.stderr
    missing = cli(ws / "missing", "task", "ls")
    assert (missing.returncode, missing.stderr) == (1, f"dockyard: workspace {ws / 'missing'} is not a directory\n")
