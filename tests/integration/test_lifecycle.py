"""The task lifecycle over the wire against a real engine: every transition, its notifications, optimistic
locking, logs, getTask's includes, PTY sessions, Docker acting behind the daemon's back, executeCommand.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from dockyard.protocol import methods as m
from dockyard.server.images import build

if TYPE_CHECKING:
    from conftest import Dock

pytestmark = pytest.mark.docker

MIB = 1 << 20
DOCKER_STATUS = {"running": "running", "stopped": "exited", "paused": "paused", "failed": "exited"}


def pollable(fn: Any, timeout: float, what: str) -> Any:
    """The first non-None ``fn()`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while (value := fn()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def wait_status(dock: Dock, start: int, predicate: Any, timeout: float = 10) -> dict[str, Any]:
    params: dict[str, Any] = dock.client.wait_for(m.STATUS, predicate, timeout=timeout, start=start)
    return params


def test_full_lifecycle_with_notifications(dock: Dock) -> None:
    start = dock.mark()
    task = dock.create(title="lifecycle")
    tid = task["id"]
    assert task["state"] == "running" and task["revision"] == 1 and task["containerId"]
    assert task["title"] == "lifecycle" and task["network"] == "none" and task["command"][0] == "sh"
    wait_status(dock, start, lambda p: p["counts"]["running"] == 1 and p["total"] == 1)

    steps: list[tuple[str, dict[str, Any], str]] = [
        (m.STOP_TASK, {"timeoutS": 2}, "stopped"),
        (m.START_TASK, {}, "running"),
        (m.PAUSE_TASK, {}, "paused"),
        (m.RESUME_TASK, {}, "running"),
        (m.RESTART_TASK, {"timeoutS": 2}, "running"),
        (m.KILL_TASK, {}, "stopped"),
        (m.START_TASK, {}, "running"),
    ]
    for method, extra, state in steps:
        mark = dock.mark()
        moved = dock.call(method, {"taskId": tid, **extra})
        assert moved["state"] == state, method
        assert dock.inspect(tid)["State"]["Status"] == DOCKER_STATUS[state], method  # Docker agrees
        wait_status(dock, mark, lambda p, s=state: p["counts"][s] == 1 and p["total"] == 1)

    mark = dock.mark()
    assert dock.call(m.REMOVE_TASK, {"taskId": tid, "force": True}) == {"removed": True}
    wait_status(dock, mark, lambda p: p["total"] == 0)

    changes = dock.changes_of(tid, start)
    assert [c["state"] for c in changes] == [
        "creating",
        "running",
        *[state for _method, _extra, state in steps],
        "removed",
    ]
    assert [c["revision"] for c in changes] == list(range(len(changes)))  # +1 on every change, none skipped
    assert all(c["containerId"] == task["containerId"] for c in changes[1:])

    err = dock.error(m.GET_TASK, {"taskId": tid})
    assert err.code == -32010
    assert dock.call(m.LIST_TASKS, {})["tasks"] == []
    assert [t["state"] for t in dock.call(m.LIST_TASKS, {"states": ["removed"]})["tasks"]] == ["removed"]
    assert dock.leftovers() == ([], [])  # container and both volumes gone


def test_expected_revision_mismatch_is_a_conflict(dock: Dock) -> None:
    task = dock.create()
    err = dock.error(m.STOP_TASK, {"taskId": task["id"], "expectedRevision": task["revision"] - 1, "timeoutS": 1})
    assert err.code == -32013
    assert err.data["revision"] == task["revision"] and err.data["expected"] == task["revision"] - 1
    assert dock.get(task["id"])["task"]["revision"] == task["revision"]  # nothing moved
    assert dock.inspect(task["id"])["State"]["Running"] is True
    stopped = dock.call(m.STOP_TASK, {"taskId": task["id"], "expectedRevision": task["revision"], "timeoutS": 1})
    assert stopped["state"] == "stopped" and stopped["revision"] == task["revision"] + 1
    err = dock.error(m.START_TASK, {"taskId": task["id"], "expectedRevision": task["revision"]})  # now stale
    assert err.code == -32013


def test_invalid_transitions_are_refused_with_the_state(dock: Dock) -> None:
    task = dock.create()
    err = dock.error(m.RESUME_TASK, {"taskId": task["id"]})
    assert err.code == -32011 and err.data["state"] == "running"
    err = dock.error(m.REMOVE_TASK, {"taskId": task["id"]})  # running, no force
    assert err.code == -32011
    assert dock.inspect(task["id"])["State"]["Running"] is True


def test_logs_return_the_main_process_output(dock: Dock) -> None:
    task = dock.create(command=["sh", "-c", "echo started; echo second >&2; exec sleep 100000"])

    def logs() -> str | None:
        text: str = dock.call(m.LOGS, {"taskId": task["id"]})["text"]
        return text if "second" in text else None

    text = pollable(logs, 10, "both log lines")
    assert sorted(text.splitlines()) == ["second", "started"]  # stdout and stderr of the main process
    assert dock.call(m.LOGS, {"taskId": task["id"], "tail": 1})["text"].count("\n") == 1


def test_get_task_includes(dock: Dock) -> None:
    task = dock.create(resources={"memoryMb": 128, "pids": 100})
    status = dock.get(task["id"], ["inspect", "stats", "top", "changes"])
    assert status["task"]["id"] == task["id"]
    inspect = status["inspect"]
    assert inspect["running"] is True and inspect["status"] == "running" and inspect["oomKilled"] is False
    assert inspect["user"] == "1000:1000" and inspect["readOnlyRootfs"] is True and inspect["capDrop"] == ["ALL"]
    assert inspect["memoryBytes"] == inspect["memorySwapBytes"] == 128 * MIB
    assert inspect["pidsLimit"] == 100 and inspect["init"] is True and inspect["networkMode"] == "none"
    stats = status["stats"]
    assert stats["memoryLimitBytes"] == 128 * MIB and 0 < stats["memoryBytes"] < 128 * MIB
    assert stats["pids"] >= 2  # docker-init and sleep
    top = status["top"]
    assert "PID" in top["titles"]
    assert any("sleep 100000" in " ".join(row) for row in top["processes"])
    kinds = {c["kind"] for c in status["changes"]}
    assert kinds <= {"modified", "added", "deleted"}
    assert "inspect" not in dock.get(task["id"])  # only what was asked for


# --- PTY sessions ----------------------------------------------------------------------------------------------
def session_text(dock: Dock, session_id: str, start: int) -> str:
    chunks = sorted(
        (p for p in dock.notes(m.SESSION_OUTPUT, start) if p["sessionId"] == session_id), key=lambda p: p["seq"]
    )
    return "".join(c["data"] for c in chunks)


def wait_output(dock: Dock, session_id: str, start: int, needle: str, timeout: float = 15) -> str:
    def found() -> str | None:
        text = session_text(dock, session_id, start)
        return text if needle in text else None

    return str(pollable(found, timeout, f"{needle!r} in session output"))


def test_pty_session_input_resize_exit(dock: Dock) -> None:
    task = dock.create(image=build.sandbox_tag(), command=None)
    start = dock.mark()
    session = dock.call(m.OPEN_SESSION, {"taskId": task["id"], "cols": 80, "rows": 24})
    sid = session["sessionId"]
    assert session["state"] == "open" and session["taskId"] == task["id"]

    dock.call(m.SESSION_INPUT, {"sessionId": sid, "data": "echo hi-$((20+22))\n"})
    wait_output(dock, sid, start, "hi-42")  # the echoed input says hi-$((20+22)); only the shell says hi-42
    dock.call(m.SESSION_INPUT, {"sessionId": sid, "data": "stty size\n"})
    wait_output(dock, sid, start, "24 80")

    resized = dock.call(m.RESIZE_SESSION, {"sessionId": sid, "cols": 100, "rows": 30})
    assert (resized["cols"], resized["rows"]) == (100, 30)
    dock.call(m.SESSION_INPUT, {"sessionId": sid, "data": "stty size\n"})
    wait_output(dock, sid, start, "30 100")

    dock.call(m.SESSION_INPUT, {"sessionId": sid, "data": "exit 3\n"})
    exited = dock.client.wait_for(m.SESSION_EXITED, lambda p: p["sessionId"] == sid, timeout=15, start=start)
    assert exited["exitCode"] == 3
    err = dock.error(m.SESSION_INPUT, {"sessionId": sid, "data": "echo gone\n"})
    assert err.code == -32018


def test_close_session_ends_it(dock: Dock) -> None:
    task = dock.create()
    start = dock.mark()
    sid = dock.call(m.OPEN_SESSION, {"taskId": task["id"], "command": ["sh"]})["sessionId"]
    dock.call(m.SESSION_INPUT, {"sessionId": sid, "data": "echo ready-$((1+1))\n"})
    wait_output(dock, sid, start, "ready-2")
    closed = dock.call(m.CLOSE_SESSION, {"sessionId": sid})
    assert closed["state"] == "exited" and closed["sessionId"] == sid
    dock.client.wait_for(m.SESSION_EXITED, lambda p: p["sessionId"] == sid, timeout=15, start=start)
    assert dock.error(m.CLOSE_SESSION, {"sessionId": sid}).code == -32018
    assert dock.error(m.CLOSE_SESSION, {"sessionId": "s-000000"}).code == -32018

    def shell_gone() -> bool | None:  # the session's process ended with it, not just the daemon's socket
        args = [line.split(None, 1)[-1] for line in dock.sh(task["id"], "ps -o pid,args").splitlines()[1:]]
        return True if "sh" not in args else None

    pollable(shell_gone, 10, "the session's shell to exit")


# --- Docker behind the daemon's back ---------------------------------------------------------------------------
def test_docker_kill_behind_the_back_fails_the_task(dock: Dock) -> None:
    task = dock.create()
    start = dock.mark()
    dock.container(task["id"]).kill()
    failed = dock.wait_state(task["id"], "failed", timeout=15, start=start)
    assert failed["reason"] == "killed(137)"  # a SIGKILL Docker did not attribute to memory is not "oom"
    assert failed["revision"] == task["revision"] + 1
    assert dock.get(task["id"])["task"]["state"] == "failed"
    # a failed task can be started again
    assert dock.call(m.START_TASK, {"taskId": task["id"]})["state"] == "running"
    assert dock.inspect(task["id"])["State"]["Running"] is True


def test_docker_rm_behind_the_back_loses_the_task(dock: Dock) -> None:
    task = dock.create()
    start = dock.mark()
    dock.container(task["id"]).remove(force=True)
    lost = dock.wait_state(task["id"], "lost", timeout=15, start=start)
    assert lost["reason"]
    assert dock.get(task["id"])["task"]["state"] == "lost"
    assert [t["state"] for t in dock.call(m.LIST_TASKS, {})["tasks"]] == ["lost"]
    assert dock.error(m.EXEC, {"taskId": task["id"], "command": "true"}).code == -32011
    # and it can still be cleaned up: the container is already gone, the volumes go now
    assert dock.call(m.REMOVE_TASK, {"taskId": task["id"]}) == {"removed": True}
    assert dock.leftovers() == ([], [])


def test_execute_command_reaches_create_task(dock: Dock) -> None:
    caps = dock.client.initialize_result["capabilities"]
    assert caps["experimental"]["dockyard"]["protocolVersion"] == m.PROTOCOL_VERSION
    assert m.command_name(m.CREATE_TASK) in caps["executeCommandProvider"]["commands"]
    args = {
        "title": "via executeCommand",
        "image": build.test_tag(),
        "command": ["sh", "-c", "exec sleep 100000"],
        "labels": {"com.example.owner": "me"},
        "env": {"MY_VAR": "1"},
    }
    task = dock.call("workspace/executeCommand", {"command": "dockyard.createTask", "arguments": [args]})
    assert task["state"] == "running" and task["title"] == "via executeCommand"
    assert task["labels"]["com.example.owner"] == "me"  # map keys arrive intact (DESIGN §7)
    assert task["envKeys"] == ["MY_VAR"]
    assert dock.inspect(task["id"])["Config"]["Labels"]["com.example.owner"] == "me"
    listed = dock.call("workspace/executeCommand", {"command": "dockyard.listTasks", "arguments": [{}]})
    assert [t["id"] for t in listed["tasks"]] == [task["id"]]
    err = dock.error("workspace/executeCommand", {"command": "dockyard.noSuchThing", "arguments": [{}]})
    assert err.code == -32602
