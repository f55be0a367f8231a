"""Lifecycle hooks in <workspace>/.dockyard/hooks run inside the task container, never on the host; a failing
pre-integrate blocks the integration with its output in the error and changes nothing."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import GitDock

from dockyard.server.cli.rpc import RpcError

pytestmark = pytest.mark.docker


def _rev(ws: Path, ref: str) -> str:
    return subprocess.run(["git", "-C", str(ws), "rev-parse", ref], capture_output=True, text=True).stdout.strip()


def test_hooks_run_in_the_container_and_a_failing_pre_integrate_blocks(git_dock: GitDock, tmp_path: Path) -> None:
    ws = git_dock.workspace
    host_marker = tmp_path / "host-only" / "ran-on-host"  # exists only on the host
    host_marker.parent.mkdir()
    hooks = ws / ".dockyard" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "post-create").write_text(
        f'echo "$(id -u) $(hostname) $DOCKYARD_TASK_ID" > /workspace/.post-create\ntouch {host_marker}\n'
    )
    (hooks / "pre-integrate").write_text(f"echo checks failed for $1 >&2\ntouch {host_marker}\nexit 4\n")
    task = git_dock.task("hooked")
    seen = git_dock.exec(task["id"], ["cat", "/workspace/.post-create"])["stdout"].split()
    assert seen == ["1000", task["id"], task["id"]]  # ran as the task user, in the task's container
    git_dock.commit(task["id"], "feature.txt", "x\n", "feature")
    before = _rev(ws, "main")
    with pytest.raises(RpcError) as info:
        git_dock.integrate(task["id"], "merge")
    assert info.value.code == -32016
    assert info.value.data["hook"] == "pre-integrate" and info.value.data["exitCode"] == 4
    assert f"checks failed for {task['id']}" in info.value.data["output"]
    assert _rev(ws, "main") == before and not (ws / "feature.txt").exists()
    time.sleep(0.2)
    assert not host_marker.exists(), "a hook ran on the host"
    (hooks / "pre-integrate").write_text("exit 0\n")
    assert git_dock.integrate(task["id"], "merge")["task"]["state"] == "integrated"
    assert (ws / "feature.txt").read_text() == "x\n"


def test_the_memory_mirror_outlives_the_task(git_dock: GitDock) -> None:
    task = git_dock.task("remembered")
    git_dock.exec(task["id"], ["sh", "-c", "echo 'learnt: keep this' >> .dockyard/task/MEMORY.md"])
    mirror = git_dock.workspace / ".dockyard" / "tasks" / task["id"] / "MEMORY.md"
    deadline = time.monotonic() + 15
    while "learnt: keep this" not in (mirror.read_text() if mirror.exists() else ""):
        assert time.monotonic() < deadline, "memory was not mirrored"
        time.sleep(0.2)
    git_dock.call("dockyard/removeTask", {"taskId": task["id"], "force": True})
    assert "learnt: keep this" in mirror.read_text()


def test_get_task_include_git_reports_branch_and_ahead_behind(git_dock: GitDock) -> None:
    task = git_dock.task("status")
    git_dock.commit(task["id"], "s.txt", "s\n", "s")
    git_dock.diff(task["id"], stat=True)  # syncs the branch into the user's repository
    status = git_dock.call("dockyard/getTask", {"taskId": task["id"], "include": ["git"]})
    git_info = status["git"]
    assert git_info["branch"] == task["branch"] and git_info["target"] == "main"
    assert (git_info["ahead"], git_info["behind"]) == (2, 0)  # the memory-template commit + s.txt
    assert git_info["head"] == _rev(git_dock.workspace, task["branch"])
