"""Crashes and other daemons against a real engine: a daemon killed mid-create, two daemons on one workspace,
no engine at all, and a journal damaged in the middle.

The crash points come from the test-only hook ``DOCKYARD_TEST_CRASH_AT`` in ``server/services/tasks.py``
(``os._exit(137)``, as abrupt as ``kill -9``); one test also sends a real SIGKILL at varying moments.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from dockyard.protocol import methods as m
from dockyard.server.cli.rpc import RpcError
from dockyard.server.images import build

if TYPE_CHECKING:
    import docker
    from conftest import Dock, Spawn

pytestmark = pytest.mark.docker

CRASH_ENV = "DOCKYARD_TEST_CRASH_AT"
ALL_STATES = ["creating", "running", "paused", "stopped", "failed", "removed", "lost", "integrated", "conflicted"]


def create_params(title: str = "recovery") -> dict[str, Any]:
    return {"title": title, "image": build.test_tag(), "command": ["sh", "-c", "exec sleep 100000"]}


def journal_lines(ws: Path) -> list[bytes]:
    return (ws / ".dockyard" / "state" / "journal.jsonl").read_bytes().splitlines(keepends=True)


def journal_task_ids(ws: Path) -> list[str]:
    """Task ids in journal order (the journal is intact in these tests)."""
    ids: list[str] = []
    for line in journal_lines(ws):
        record = json.loads(line)
        if record["kind"] == "task" and record["data"]["id"] not in ids:
            ids.append(record["data"]["id"])
    return ids


def settled(dock: Dock, task_id: str, timeout: float = 30) -> dict[str, Any]:
    """The task once the fresh daemon's reconcile has decided about it (no longer ``creating``)."""
    deadline = time.monotonic() + timeout
    while True:
        tasks = {t["id"]: t for t in dock.all_tasks()}
        task = tasks.get(task_id)
        if task is not None and task["state"] != "creating":
            return task
        assert time.monotonic() < deadline, f"{task_id} still {task and task['state']} after {timeout}s"
        time.sleep(0.1)


def assert_consistent(dock: Dock, task_id: str) -> str:
    """Exactly one running container for a running task, nothing for a removed one; no orphans either way."""
    task = settled(dock, task_id)
    containers = dock.engine.containers.list(all=True, filters={"label": f"dockyard.task={task_id}"})
    volumes = [v.name for v in dock.engine.volumes.list(filters={"label": f"dockyard.task={task_id}"})]
    if task["state"] == "running":
        assert len(containers) == 1, [c.name for c in containers]
        assert containers[0].id == task["containerId"] and containers[0].status == "running"
        assert sorted(volumes) == sorted([f"dockyard-{task_id}-home", f"dockyard-{task_id}-workspace"])
        assert dock.sh(task_id, "echo adopted") == "adopted\n"
    else:
        assert task["state"] == "removed", task
        assert containers == [] and volumes == []
        assert dock.error(m.GET_TASK, {"taskId": task_id}).code == -32010
    live = {t["id"] for t in dock.all_tasks() if t["state"] != "removed"}
    for container in dock.engine.containers.list(all=True, filters={"label": f"dockyard.workspace={dock.workspace}"}):
        assert container.labels["dockyard.task"] in live, f"orphan container {container.name}"
    return str(task["state"])


@pytest.mark.parametrize(
    ("step", "outcome", "containers_at_crash"),
    [
        ("after_journal_creating", "removed", []),
        ("after_container_create", "removed", ["created"]),
        ("after_container_start", "running", ["running"]),
    ],
)
def test_daemon_dies_mid_create_then_restart_repairs(
    spawn: Spawn,
    make_dock: Callable[..., Dock],
    workspace: Path,
    engine: docker.DockerClient,
    step: str,
    outcome: str,
    containers_at_crash: list[str],
) -> None:
    crashing = spawn(env={CRASH_ENV: step})
    msg_id = crashing.send_request(m.CREATE_TASK, create_params())
    with pytest.raises(RpcError) as caught:
        crashing.response(msg_id, timeout=60)
    assert caught.value.code == -32099  # the client's "daemon closed its output": no reply came
    assert crashing.proc is not None and crashing.proc.wait(timeout=10) == 137
    (task_id,) = journal_task_ids(workspace)
    at_crash = engine.containers.list(all=True, filters={"label": f"dockyard.task={task_id}"})
    assert [c.status for c in at_crash] == containers_at_crash

    fresh = make_dock()
    assert assert_consistent(fresh, task_id) == outcome
    # and a third daemon replays the same history without doing anything more
    again = make_dock()
    assert {t["id"]: t["state"] for t in again.all_tasks()} == {task_id: outcome}


@pytest.mark.parametrize("delay_s", [0.0, 0.03, 0.1, 0.3])
def test_kill_9_at_some_point_of_create(
    spawn: Spawn, make_dock: Callable[..., Dock], workspace: Path, delay_s: float
) -> None:
    victim = spawn()
    msg_id = victim.send_request(m.CREATE_TASK, create_params())
    victim.wait_for(m.TASK_CHANGED, lambda p: p["task"]["state"] == "creating", timeout=30)
    time.sleep(delay_s)  # not an assertion: it moves the kill to a different step of the create
    assert victim.proc is not None
    os.kill(victim.proc.pid, signal.SIGKILL)
    victim.proc.wait(timeout=10)
    try:
        victim.response(msg_id, timeout=30)  # the create may have finished before the kill: fine too
    except RpcError as exc:
        assert exc.code == -32099  # no reply: the daemon died mid-create
    (task_id,) = journal_task_ids(workspace)
    assert assert_consistent(make_dock(), task_id) in ("running", "removed")


def test_a_daemon_starting_during_another_ones_create_leaves_it_alone(
    spawn: Spawn, make_dock: Callable[..., Dock], workspace: Path, engine: docker.DockerClient
) -> None:
    """Regression: a starting daemon's reconcile took a create in flight for an interrupted one and removed it."""
    creator = spawn(env={CRASH_ENV: "stall:after_container_create"})  # stalls 3 s with the container created
    msg_id = creator.send_request(m.CREATE_TASK, create_params())
    deadline = time.monotonic() + 30
    while not engine.api.containers(all=True, filters={"label": f"dockyard.workspace={workspace}"}):
        assert time.monotonic() < deadline, "the creator never got to create its container"
        time.sleep(0.02)
    other = make_dock()  # starts and reconciles while the creator is stalled mid-create
    (task_id,) = journal_task_ids(workspace)
    assert {t["id"]: t["state"] for t in other.all_tasks()} == {task_id: "creating"}
    task = creator.response(msg_id, timeout=60)
    assert task["state"] == "running" and task["id"] == task_id
    assert other.wait_state(task_id, "running", timeout=10)["containerId"] == task["containerId"]
    assert assert_consistent(other, task_id) == "running"


def test_two_daemons_see_each_others_changes(make_dock: Callable[..., Dock]) -> None:
    b = make_dock()
    a = make_dock()
    b_start = b.mark()
    task = a.create()
    seen = b.wait_state(task["id"], "running", timeout=10, start=b_start)
    assert seen["revision"] == task["revision"] and seen["containerId"] == task["containerId"]
    stopped = a.call(m.STOP_TASK, {"taskId": task["id"], "timeoutS": 1})
    seen = b.wait_state(task["id"], "stopped", timeout=10, start=b_start)
    assert seen["revision"] == stopped["revision"]
    assert {t["id"]: t["state"] for t in b.call(m.LIST_TASKS, {})["tasks"]} == {task["id"]: "stopped"}
    b.client.wait_for(m.STATUS, lambda p: p["counts"]["stopped"] == 1, timeout=10, start=b_start)
    # and the other way round, with B's revision check seeing A's change
    a_start = a.mark()
    assert b.error(m.START_TASK, {"taskId": task["id"], "expectedRevision": task["revision"]}).code == -32013
    started = b.call(m.START_TASK, {"taskId": task["id"], "expectedRevision": stopped["revision"]})
    assert a.wait_state(task["id"], "running", timeout=10, start=a_start)["revision"] == started["revision"]
    assert a.sh(task["id"], "echo both") == "both\n"
    # the Docker event of B's start did not make either daemon write anything more
    assert [c["state"] for c in a.changes_of(task["id"], a_start)] == ["running"]


def test_docker_unavailable_is_reported_and_the_daemon_stays_up(make_dock: Callable[..., Dock]) -> None:
    dock = make_dock(env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    for _ in range(2):
        err = dock.error(m.CREATE_TASK, create_params(), timeout=60)
        assert err.code == -32014
        assert "start" in err.message and ("docker" in err.message.lower() or "engine" in err.message.lower())
    assert dock.call(m.LIST_TASKS, {}) == {"tasks": []}  # nothing half-created, and still serving
    assert dock.error(m.GET_TASK, {"taskId": "t-000000"}).code == -32010
    assert dock.client.proc is not None and dock.client.proc.poll() is None


def test_journal_corrupt_in_the_middle_refuses_to_start(
    make_dock: Callable[..., Dock], spawn: Spawn, workspace: Path
) -> None:
    dock = make_dock()
    task = dock.create()
    dock.call(m.STOP_TASK, {"taskId": task["id"], "timeoutS": 1})
    dock.call(m.START_TASK, {"taskId": task["id"]})
    dock.call(m.REMOVE_TASK, {"taskId": task["id"], "force": True})
    dock.client.close()
    lines = journal_lines(workspace)
    assert len(lines) >= 5
    middle = len(lines) // 2
    offset = sum(len(line) for line in lines[:middle])
    damaged = bytearray(lines[middle])
    pos = len(damaged) // 2
    damaged[pos] ^= 0x01
    assert damaged[pos] not in b"\r\n"
    path = workspace / ".dockyard" / "state" / "journal.jsonl"
    corrupt = b"".join([*lines[:middle], bytes(damaged), *lines[middle + 1 :]])
    path.write_bytes(corrupt)

    proc = subprocess.run(
        [sys.executable, "-m", "dockyard.server", "serve", "--stdio", "--workspace", str(workspace)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        cwd=workspace,
        timeout=60,
    )
    stderr = proc.stderr.decode()
    assert proc.returncode != 0, stderr
    assert f"byte offset {offset}" in stderr, stderr
    assert path.read_bytes() == corrupt  # nothing was discarded or "repaired"

    # a client that opens the workspace at initialize is refused too, and the daemon does not start serving
    client = spawn(start=False)
    with pytest.raises(RpcError):
        client.start()
