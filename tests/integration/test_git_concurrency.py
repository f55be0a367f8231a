"""Two daemons on one repository, creating and integrating tasks at the same time (issue 3).

Branch creation, bundle fetches and integrations of both processes go through one repository lock; the
compare-and-swap on the target ref must never lose an integration, and the repository must stay sound.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import git

from dockyard.protocol import methods as m

if TYPE_CHECKING:
    from conftest import GitDock

pytestmark = pytest.mark.docker

TASKS = 10
SMALL = {"memoryMb": 128, "cpus": 0.5, "pids": 128}


def rev(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", "--verify", ref).strip()


def test_two_daemons_create_and_integrate_ten_tasks_concurrently(make_git_dock: Callable[..., GitDock]) -> None:
    docks = [make_git_dock(), make_git_dock()]
    ws = docks[0].workspace
    main_before = rev(ws, "main")
    git(ws, "branch", "integration", "main")  # not checked out: integrations only move its ref

    def work(i: int) -> dict[str, Any]:
        dock = docks[i % 2]
        task = dock.task(f"Parallel {i}", resources=SMALL)
        dock.commit(task["id"], f"file-{i}.txt", f"content {i}\n", f"add file {i}")
        head = dock.diff(task["id"])["head"]
        result = dock.integrate(task["id"], "merge", target="integration")
        return {"i": i, "task": task, "head": head, "result": result}

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=TASKS) as pool:
        outcomes = list(pool.map(work, range(TASKS)))
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"10 tasks took {elapsed:.0f}s"

    git(ws, "fsck", "--strict", "--no-progress", "--no-dangling")
    integration = rev(ws, "integration")
    files = set(git(ws, "ls-tree", "-r", "--name-only", "integration").split())
    assert files == {"a.txt", *(f"file-{i}.txt" for i in range(TASKS))}  # every task's file; no memory files
    for out in outcomes:
        branch, head, i = out["task"]["branch"], out["head"], out["i"]
        assert rev(ws, branch) == head  # every task branch exists with its commit
        assert git(ws, "show", f"{branch}:file-{i}.txt") == f"content {i}\n"
        git(ws, "merge-base", "--is-ancestor", head, integration)  # raises unless merged into the target
        assert out["result"]["target"] == "integration" and out["result"]["updatedWorktree"] is False
        assert out["result"]["task"]["state"] == "integrated"
    # each integration built on the one before it (compare-and-swap under the lock): ten merges, none lost
    assert len(git(ws, "rev-list", "--merges", "--first-parent", "main..integration").split()) == TASKS
    previous = {out["result"]["previous"] for out in outcomes}
    commits = {out["result"]["commit"] for out in outcomes}
    assert len(commits) == TASKS and previous == (commits - {integration}) | {main_before}
    assert rev(ws, "main") == main_before and (ws / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert sorted(p.name for p in (ws / ".git").glob("dockyard-index-*")) == []

    ids = {out["task"]["id"] for out in outcomes}
    for dock in docks:  # each daemon sees the other's tasks (journal tail)
        deadline = time.monotonic() + 10
        while {t["id"] for t in dock.call(m.LIST_TASKS, {"states": ["integrated"]})["tasks"]} != ids:
            assert time.monotonic() < deadline, "a daemon never saw the other's integrations"
            time.sleep(0.2)

    def remove(out: dict[str, Any]) -> None:
        params = {"taskId": out["task"]["id"], "force": True, "deleteBranch": True}
        assert docks[out["i"] % 2].call(m.REMOVE_TASK, params)["removed"]

    with ThreadPoolExecutor(max_workers=TASKS) as pool:
        list(pool.map(remove, outcomes))
    assert git(ws, "branch", "--list", "dockyard/*") == ""
    assert not any(Path(out["task"]["checkoutPath"]).exists() for out in outcomes)
    assert set(git(ws, "ls-tree", "-r", "--name-only", "integration").split()) == files
    git(ws, "fsck", "--strict", "--no-progress", "--no-dangling")
