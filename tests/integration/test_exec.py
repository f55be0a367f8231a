"""``dockyard/exec`` against a real engine: streaming, exit codes, timeout, cancel, stdin, cwd, env, errors."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import pytest

from dockyard.protocol import methods as m
from dockyard.server.cli.rpc import RpcError

if TYPE_CHECKING:
    from conftest import Dock

pytestmark = pytest.mark.docker

RESULT_CAP = 1 << 20  # what the reply keeps per stream; the notifications carry everything


def stream_of(dock: Dock, exec_id: str, start: int = 0) -> list[dict[str, Any]]:
    """The ``dockyard/output`` notifications of one exec, ordered by seq."""
    return sorted((p for p in dock.notes(m.OUTPUT, start) if p["execId"] == exec_id), key=lambda p: p["seq"])


def processes(dock: Dock, task_id: str) -> str:
    return dock.sh(task_id, "ps -o pid,args")


def test_50_mb_of_output_streams_intact_with_the_exit_code(dock: Dock) -> None:
    task = dock.create()
    size, line = 50 * (1 << 20), "0123456789abcdef\n"
    expected = (line * (size // len(line) + 1))[:size].encode()
    start = dock.mark()
    result = dock.exec(task["id"], f"yes 0123456789abcdef | head -c {size}; exit 7", execId="big-1", timeoutS=120)
    assert result["exitCode"] == 7 and result["execId"] == "big-1"
    assert result["truncated"] is True
    assert result["stdout"].encode() == expected[:RESULT_CAP]
    exited = dock.client.wait_for(m.EXEC_EXITED, lambda p: p["execId"] == "big-1", timeout=30, start=start)
    assert exited["exitCode"] == 7
    chunks = stream_of(dock, "big-1", start)
    assert [c["seq"] for c in chunks] == list(range(1, len(chunks) + 1))  # none lost, none repeated
    assert {c["stream"] for c in chunks} == {"stdout"} and {c["taskId"] for c in chunks} == {task["id"]}
    data = "".join(c["data"] for c in chunks).encode()
    assert len(data) == size
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(expected).hexdigest()


def test_stdout_and_stderr_are_kept_apart(dock: Dock) -> None:
    task = dock.create()
    start = dock.mark()
    result = dock.exec(task["id"], "echo out; echo err >&2; exit 3", execId="two-streams")
    assert (result["exitCode"], result["stdout"], result["stderr"], result["truncated"]) == (3, "out\n", "err\n", False)
    chunks = stream_of(dock, "two-streams", start)
    assert "".join(c["data"] for c in chunks if c["stream"] == "stdout") == "out\n"
    assert "".join(c["data"] for c in chunks if c["stream"] == "stderr") == "err\n"


def test_argv_list_is_not_run_through_a_shell(dock: Dock) -> None:
    task = dock.create()
    result = dock.exec(task["id"], ["echo", "a  b", "$HOME", "*"])
    assert result["stdout"] == "a  b $HOME *\n" and result["exitCode"] == 0


def test_timeout_kills_the_process_and_reports_it(dock: Dock) -> None:
    task = dock.create()
    started = time.monotonic()
    result = dock.exec(task["id"], "sleep 300", timeoutS=1)
    assert time.monotonic() - started < 15
    assert result["timedOut"] is True and result["cancelled"] is False
    assert result["exitCode"] == 137
    assert 900 <= result["durationMs"] < 15_000
    assert "sleep 300" not in processes(dock, task["id"])
    assert dock.get(task["id"])["task"]["state"] == "running"  # the task itself is untouched


def test_cancel_gives_one_error_reply_and_kills_the_process(dock: Dock) -> None:
    task = dock.create()
    msg_id = dock.client.send_request(m.EXEC, {"taskId": task["id"], "command": "sleep 300", "execId": "to-cancel"})
    # The exec runs (seen from a second, concurrent exec) before it is cancelled.
    dock_poll = time.monotonic() + 20
    while "sleep 300" not in processes(dock, task["id"]):
        assert time.monotonic() < dock_poll, "the exec to cancel never started"
        time.sleep(0.05)
    started = time.monotonic()
    dock.client.cancel(msg_id)
    with pytest.raises(RpcError) as caught:
        dock.client.response(msg_id, timeout=30)
    assert time.monotonic() - started < 15
    err = caught.value
    assert err.code == -32800
    assert err.data["exitCode"] == 137 and err.data["cancelled"] is True and err.data["execId"] == "to-cancel"
    assert "sleep 300" not in processes(dock, task["id"])
    # the daemon still serves, and no second reply to the cancelled request ever came
    assert dock.sh(task["id"], "echo still-here") == "still-here\n"
    assert [t["id"] for t in dock.call(m.LIST_TASKS, {})["tasks"]] == [task["id"]]
    assert dock.client._responses[msg_id].empty()


def test_stdin_passes_through(dock: Dock) -> None:
    task = dock.create()
    text = "hello\nwörld ✓\n"
    assert dock.exec(task["id"], "cat", stdin=text)["stdout"] == text
    big = "".join(f"line {i:07d} {'x' * (i % 50)}\n" for i in range(30_000))  # ~2 MB
    assert dock.sh(task["id"], "wc -c", stdin=big).strip() == str(len(big.encode()))
    assert dock.sh(task["id"], "sha256sum", stdin=big).split()[0] == hashlib.sha256(big.encode()).hexdigest()
    assert dock.exec(task["id"], "wc -c", stdin="")["stdout"].strip() == "0"


def test_cwd_and_env(dock: Dock) -> None:
    task = dock.create()
    assert dock.sh(task["id"], "pwd") == "/workspace\n"  # the default
    assert dock.sh(task["id"], "pwd", cwd="/tmp") == "/tmp\n"
    dock.sh(task["id"], "mkdir -p /workspace/sub/dir")
    assert dock.sh(task["id"], "pwd", cwd="/workspace/sub/dir") == "/workspace/sub/dir\n"
    env = {"FOO": "bar baz", "_under_score1": "u", "EMPTY": "", "QUOTED": 'it\'s "q" $HOME'}
    lines = set(dock.sh(task["id"], ["env"], env=env).splitlines())
    assert {"FOO=bar baz", "_under_score1=u", "EMPTY=", 'QUOTED=it\'s "q" $HOME'} <= lines
    assert dock.sh(task["id"], 'echo "$FOO"', env={"FOO": "only this exec"}) == "only this exec\n"
    assert dock.sh(task["id"], 'echo "${FOO-unset}"') == "unset\n"


def test_env_names_that_are_not_shell_identifiers_reach_the_command(dock: Dock) -> None:
    """The protocol allows ``MY-VAR`` and ``dotted.name``; a shell in between would silently drop them."""
    task = dock.create()
    lines = set(dock.sh(task["id"], ["env"], env={"MY-VAR": "dash", "dotted.name": "dot"}).splitlines())
    assert {"MY-VAR=dash", "dotted.name=dot"} <= lines


def test_exec_on_a_stopped_task_is_invalid_state(dock: Dock) -> None:
    task = dock.create()
    dock.call(m.STOP_TASK, {"taskId": task["id"], "timeoutS": 1})
    err = dock.error(m.EXEC, {"taskId": task["id"], "command": "true"})
    assert err.code == -32011
    assert err.data["state"] == "stopped" and err.data["taskId"] == task["id"]


def test_exec_on_an_unknown_task_is_not_found(dock: Dock) -> None:
    err = dock.error(m.EXEC, {"taskId": "t-000000", "command": "true"})
    assert err.code == -32010 and err.data == {"taskId": "t-000000"}
    err = dock.error(m.EXEC, {"taskId": "t-000000"})  # no command: invalid params, with pydantic's list
    assert err.code == -32602 and any(e["loc"][-1] == "command" for e in err.data)
