"""Tasks on a real engine through pytest-lsp: lifecycle, exec streaming, PTY sessions, commands, raw maps.

Every test runs with VS Code's and Neovim's capabilities. Notifications are awaited with futures that are
registered *before* the request that causes them (DESIGN §7); see ``conftest.py`` for why results and
notifications are raw dicts here (dotted label keys would otherwise come back renamed).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import pytest

from dockyard.protocol import methods as m

if TYPE_CHECKING:
    from conftest import DockyardClient  # tests/e2e/conftest.py; fixtures bring the objects themselves

pytestmark = [pytest.mark.docker, pytest.mark.timeout(90)]

TESTBOX = "dockyard/testbox:0.1.0"
TASK_ID = re.compile(r"^t-[0-9a-f]{6,12}$")


def changed(task_id: str, state: str, revision: int | None = None) -> Any:
    """Predicate: a taskChanged for ``task_id`` in ``state`` (at ``revision``, when given)."""
    return lambda p: (
        p["task"]["id"] == task_id
        and p["task"]["state"] == state
        and (revision is None or p["task"]["revision"] == revision)
    )


def counted(state: str, n: int) -> Any:
    return lambda p: p["counts"].get(state) == n


async def create(client: DockyardClient, **params: Any) -> dict[str, Any]:
    task: dict[str, Any] = await client.call(m.CREATE_TASK, {"title": "e2e", "image": TESTBOX, **params}, timeout=60)
    assert task["state"] == "running", task
    return task


async def step(
    client: DockyardClient, method: str, task: dict[str, Any], state: str, status: tuple[str, int], **extra: Any
) -> dict[str, Any]:
    """One lifecycle call: its reply, its taskChanged (next revision) and a status with the new counts."""
    revision = task["revision"] + 1
    note = client.expect(m.TASK_CHANGED, changed(task["id"], state, revision))
    counts = client.expect(m.STATUS, counted(*status))
    result: dict[str, Any] = await client.call(method, {"taskId": task["id"], **extra}, timeout=60)
    assert result["id"] == task["id"]
    assert result["state"] == state, (method, result)
    assert result["revision"] == revision, (method, result)
    assert (await client.arrived(note))["task"] == result
    await client.arrived(counts)
    return result


async def test_task_lifecycle(client: DockyardClient, workspace: Path, docker_engine: docker.DockerClient) -> None:
    creating = client.expect(m.TASK_CHANGED, lambda p: p["task"]["state"] == "creating")
    running = client.expect(m.TASK_CHANGED, lambda p: p["task"]["state"] == "running")
    one_running = client.expect(m.STATUS, counted("running", 1))
    task = await create(client, title="lifecycle")
    assert TASK_ID.match(task["id"])
    assert task["title"] == "lifecycle" and task["image"] == TESTBOX
    assert task["labels"]["dockyard.task"] == task["id"]
    assert task["labels"]["dockyard.workspace"] == str(workspace)
    assert (await client.arrived(creating))["task"]["id"] == task["id"]
    assert (await client.arrived(running))["task"] == task
    status = await client.arrived(one_running)
    assert status["total"] == 1

    container = docker_engine.containers.get(task["containerId"])
    assert container.status == "running"
    assert container.labels["dockyard.workspace"] == str(workspace)

    listed = await client.call(m.LIST_TASKS, {})
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    got = await client.call(m.GET_TASK, {"taskId": task["id"], "include": ["inspect"]})
    assert got["task"] == task
    inspect = got["inspect"]
    assert inspect["running"] is True and inspect["paused"] is False
    assert inspect["capDrop"] == ["ALL"] and inspect["readOnlyRootfs"] is True
    assert inspect["networkMode"] == "none"

    task = await step(client, m.PAUSE_TASK, task, "paused", ("paused", 1))
    assert (await client.call(m.LIST_TASKS, {"states": ["paused"]}))["tasks"] == [task]
    task = await step(client, m.RESUME_TASK, task, "running", ("running", 1))
    task = await step(client, m.STOP_TASK, task, "stopped", ("stopped", 1), timeoutS=2)
    container.reload()
    assert container.status == "exited"
    task = await step(client, m.START_TASK, task, "running", ("running", 1))
    task = await step(client, m.RESTART_TASK, task, "running", ("running", 1), timeoutS=2)
    container.reload()
    assert container.status == "running"

    removed = client.expect(m.TASK_CHANGED, changed(task["id"], "removed"))
    none_left = client.expect(m.STATUS, lambda p: p["total"] == 0)
    assert await client.call(m.REMOVE_TASK, {"taskId": task["id"], "force": True}) == {"removed": True}
    await client.arrived(removed)
    await client.arrived(none_left)
    assert (await client.call(m.LIST_TASKS, {}))["tasks"] == []
    err = await client.rpc_error(client.call(m.GET_TASK, {"taskId": task["id"]}))
    assert err.code == -32010
    with pytest.raises(docker.errors.NotFound):
        docker_engine.containers.get(task["containerId"])

    # The whole history as every client saw it: one change per revision, in order, nothing in between
    # (e.g. no transient "failed" from the engine watcher while a restart stops and starts the container).
    seen = [(n["task"]["state"], n["task"]["revision"]) for n in client.notes(m.TASK_CHANGED)]
    assert seen == [
        ("creating", 0),
        ("running", 1),
        ("paused", 2),
        ("running", 3),
        ("stopped", 4),
        ("running", 5),
        ("running", 6),
        ("removed", 7),
    ]


async def test_exec_streams_output_notifications(client: DockyardClient) -> None:
    task = await create(client, title="exec")
    exec_id = "e-stream-1"
    exited = client.expect(m.EXEC_EXITED, lambda p: p["execId"] == exec_id)
    script = "echo out-1; echo err-1 >&2; sleep 0.3; echo out-2; printf 'err-2\\n' >&2; exit 3"
    result = await client.call(m.EXEC, {"taskId": task["id"], "command": script, "execId": exec_id})
    assert (await client.arrived(exited)) == {"execId": exec_id, "exitCode": 3}
    assert result["execId"] == exec_id and result["exitCode"] == 3
    assert result["stdout"] == "out-1\nout-2\n" and result["stderr"] == "err-1\nerr-2\n"
    assert result["truncated"] is False and result["durationMs"] >= 300

    outputs = client.notes(m.OUTPUT, lambda p: p["execId"] == exec_id)
    assert all(o["taskId"] == task["id"] for o in outputs)
    seqs = [o["seq"] for o in outputs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    assert "".join(o["data"] for o in outputs if o["stream"] == "stdout") == "out-1\nout-2\n"
    assert "".join(o["data"] for o in outputs if o["stream"] == "stderr") == "err-1\nerr-2\n"
    # every output notification came before execExited
    order = [name for name, p in client.protocol.notes if p.get("execId") == exec_id]
    assert order[-1] == m.EXEC_EXITED and order.count(m.EXEC_EXITED) == 1

    # an argv list (no shell) with stdin
    exited = client.expect(m.EXEC_EXITED, lambda p: p["execId"] == "e-stdin-1")
    params = {"taskId": task["id"], "command": ["cat"], "stdin": "piped\nin\n", "execId": "e-stdin-1"}
    result = await client.call(m.EXEC, params)
    assert (await client.arrived(exited))["exitCode"] == 0
    assert result["stdout"] == "piped\nin\n" and result["stderr"] == ""
    streamed = client.notes(m.OUTPUT, lambda p: p["execId"] == "e-stdin-1")
    assert "".join(o["data"] for o in streamed) == "piped\nin\n"


async def test_pty_session_echo(client: DockyardClient) -> None:
    task = await create(client, title="pty")
    seen: list[str] = []

    def says_42(p: dict[str, Any]) -> bool:
        seen.append(p["data"])  # output may arrive in any chunking: look at all of it so far
        return "hi-42" in "".join(seen)

    session = await client.call(m.OPEN_SESSION, {"taskId": task["id"], "command": ["/bin/sh"], "cols": 100})
    sid = session["sessionId"]
    assert session["state"] == "open" and session["taskId"] == task["id"]
    assert session["command"] == ["/bin/sh"] and session["cols"] == 100
    answer = client.expect(m.SESSION_OUTPUT, lambda p: p["sessionId"] == sid and says_42(p))
    # the command line itself never contains the answer; only the shell's arithmetic does
    echoed = await client.call(m.SESSION_INPUT, {"sessionId": sid, "data": "echo hi-$((40+2))\n"})
    assert echoed["sessionId"] == sid
    await client.arrived(answer)
    outputs = client.notes(m.SESSION_OUTPUT, lambda p: p["sessionId"] == sid)
    seqs = [o["seq"] for o in outputs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs

    resized = await client.call(m.RESIZE_SESSION, {"sessionId": sid, "cols": 120, "rows": 40})
    assert (resized["cols"], resized["rows"]) == (120, 40)

    exited = client.expect(m.SESSION_EXITED, lambda p: p["sessionId"] == sid)
    closed = await client.call(m.CLOSE_SESSION, {"sessionId": sid})
    assert closed["sessionId"] == sid and closed["state"] == "exited"
    assert (await client.arrived(exited))["sessionId"] == sid
    err = await client.rpc_error(client.call(m.SESSION_INPUT, {"sessionId": sid, "data": "x"}))
    assert err.code == -32018


async def test_execute_command_create_and_list(client: DockyardClient, workspace: Path) -> None:
    labels = {"com.example.owner": "alice", "team": "infra"}
    running = client.expect(m.TASK_CHANGED, lambda p: p["task"]["state"] == "running")
    task = await client.command(
        "dockyard.createTask", {"title": "via command", "image": TESTBOX, "labels": labels}, timeout=60
    )
    assert isinstance(task, dict) and TASK_ID.match(task["id"])
    assert task["state"] == "running" and task["title"] == "via command"
    assert task["labels"]["com.example.owner"] == "alice"
    assert task["labels"]["dockyard.workspace"] == str(workspace)
    assert (await client.arrived(running))["task"] == task

    listed = await client.command("dockyard.listTasks", {})
    assert listed == {"tasks": [task]}
    got = await client.command("dockyard.getTask", {"taskId": task["id"]})
    assert got["task"] == task
    assert await client.command("dockyard.removeTask", {"taskId": task["id"], "force": True}) == {"removed": True}
    assert await client.command("dockyard.listTasks", {}) == {"tasks": []}


async def test_dotted_label_keys_survive_the_round_trip(
    client: DockyardClient, workspace: Path, docker_engine: docker.DockerClient
) -> None:
    """DESIGN §7: pygls would rename ``com.example.owner`` to ``_0`` -- in params and in results."""
    labels = {"com.example.owner": "alice", "com.example/team": "core", "app-tier": "web", "plain": "yes"}
    env = {"MY-VAR": "dashed", "dotted.name": "dots"}
    note = client.expect(m.TASK_CHANGED, lambda p: p["task"]["state"] == "running")
    task = await create(client, title="labels", labels=labels, env=env)
    assert {k: task["labels"][k] for k in labels} == labels
    assert set(task["labels"]) == {*labels, "dockyard.task", "dockyard.workspace", "dockyard.version"}
    assert sorted(task["envKeys"]) == sorted(env)

    assert (await client.arrived(note))["task"]["labels"] == task["labels"]
    assert (await client.call(m.LIST_TASKS, {}))["tasks"][0]["labels"] == task["labels"]
    assert (await client.call(m.GET_TASK, {"taskId": task["id"]}))["task"]["labels"] == task["labels"]
    # on the container itself, too
    container_labels = docker_engine.containers.get(task["containerId"]).labels
    assert {k: container_labels[k] for k in labels} == labels
    # and the env var names reached the task's main process unrenamed
    result = await client.call(m.EXEC, {"taskId": task["id"], "command": ["cat", "/proc/1/environ"]})
    assert {"MY-VAR=dashed", "dotted.name=dots"} <= set(result["stdout"].split("\0"))


async def test_exec_sees_non_identifier_env_names(client: DockyardClient) -> None:
    task = await create(client, title="env", env={"MY-VAR": "dashed"})
    result = await client.call(m.EXEC, {"taskId": task["id"], "command": ["env"], "env": {"EXEC-ONLY.x": "1"}})
    assert {"MY-VAR=dashed", "EXEC-ONLY.x=1"} <= set(result["stdout"].splitlines())


async def test_concurrent_creates_on_one_connection(client: DockyardClient) -> None:
    """Two requests in flight at once: each reply matches its request, and the counts add up."""
    both = client.expect(m.STATUS, counted("running", 2))
    first, second = await asyncio.gather(create(client, title="one"), create(client, title="two"))
    assert first["id"] != second["id"]
    assert (first["title"], second["title"]) == ("one", "two")
    await client.arrived(both)
    listed = await client.call(m.LIST_TASKS, {})
    assert {t["id"] for t in listed["tasks"]} == {first["id"], second["id"]}
