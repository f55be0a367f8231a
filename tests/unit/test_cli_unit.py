"""The CLI's pure parts: argument parsing, params it builds, error wording, formatting, stream plumbing."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from dockyard.protocol import methods as m
from dockyard.server.adapters.journal import Journal
from dockyard.server.cli import doctor, main
from dockyard.server.cli.errors import CliError, describe_rpc_error
from dockyard.server.cli.exec_cmd import ExecStream, exec_params, exit_status
from dockyard.server.cli.format import (
    age,
    human_bytes,
    parse_time,
    resources_text,
    security_facts,
    status_view,
    task_row,
    tasks_table,
)
from dockyard.server.cli.image_cmd import BuildView, is_milestone
from dockyard.server.cli.parser import build_parser, create_params, key_value, list_params
from dockyard.server.cli.rpc import DaemonClient, RpcError
from dockyard.server.cli.shell import LineBuffer, SessionOutput

NOW = datetime(2026, 1, 2, 12, 0, 0, tzinfo=UTC)
TASK: dict[str, Any] = {
    "id": "t-abc123",
    "title": "fix the bug",
    "state": "failed",
    "reason": "oom",
    "image": "dockyard/testbox:0.1.0",
    "containerId": "0123456789abcdef0123",
    "createdAt": "2026-01-02T11:57:00.123456Z",
    "updatedAt": "2026-01-02T11:58:00.123456Z",
    "revision": 3,
    "resources": {"memoryMb": 256, "cpus": 0.5, "pids": 64},
    "network": "none",
    "labels": {"com.example.owner": "alice", "dockyard.task": "t-abc123"},
    "envKeys": ["MY-VAR"],
}
HARDENED: dict[str, Any] = {
    "status": "running",
    "running": True,
    "user": "1000:1000",
    "capDrop": ["ALL"],
    "capAdd": [],
    "readOnlyRootfs": True,
    "securityOpt": ["no-new-privileges:true"],
    "networkMode": "none",
    "memoryBytes": 268435456,
    "pidsLimit": 64,
    "init": True,
    "nanoCpus": 500000000,
}


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def render(renderable: Any, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


# --- parsing --------------------------------------------------------------------------------------------
def test_task_new_builds_create_params() -> None:
    args = parse(
        "task", "new", "fix it", "--image", "img:1", "--memory", "512", "--cpus", "1.5", "--pids", "100",
        "--network", "none", "--env", "A=1", "--env", "B=x=y", "--label", "com.example.owner=alice", "--json",
    )  # fmt: skip
    assert args.run == "dockyard.server.cli.tasks:cmd_new" and args.json
    assert create_params(args) == {
        "title": "fix it",
        "image": "img:1",
        "resources": {"memoryMb": 512, "cpus": 1.5, "pids": 100},
        "network": "none",
        "env": {"A": "1", "B": "x=y"},
        "labels": {"com.example.owner": "alice"},
    }


def test_task_new_minimal_sends_only_the_title() -> None:
    assert create_params(parse("task", "new", "t")) == {"title": "t"}


@pytest.mark.parametrize("bad", [["--env", "NOVALUE"], ["--env", "=v"], ["--memory", "0"], ["--cpus", "x"]])
def test_bad_options_are_usage_errors(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse("task", "new", "t", *bad)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_key_value() -> None:
    assert key_value("K=") == ("K", "")
    with pytest.raises(argparse.ArgumentTypeError):
        key_value("K")


def test_exec_takes_the_command_after_double_dash() -> None:
    args = parse("task", "exec", "t-abc123", "--timeout", "5", "--cwd", "/tmp", "--", "sh", "-c", "echo hi; exit 3")
    assert args.task_id == "t-abc123" and args.timeout == 5.0 and args.cwd == "/tmp"
    assert args.command == ["sh", "-c", "echo hi; exit 3"]
    params = exec_params(args.task_id, args.command, args.cwd, args.timeout)
    assert params["command"] == ["sh", "-c", "echo hi; exit 3"] and params["timeoutS"] == 5.0
    assert params["execId"].startswith("cli-") and params["cwd"] == "/tmp"


def test_exec_options_inside_the_command_are_the_commands() -> None:
    assert parse("task", "exec", "t-abc123", "--", "ls", "--timeout", "-la").command == ["ls", "--timeout", "-la"]


def test_exec_without_a_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        parse("task", "exec", "t-abc123")
    assert info.value.code == 2


def test_workspace_before_or_after_the_subcommand() -> None:
    assert parse("--workspace", "/a", "task", "ls").workspace == "/a"
    assert parse("task", "ls", "--workspace", "/b").workspace == "/b"
    assert parse("task", "ls").workspace is None
    assert parse("--workspace", "/c", "serve", "--stdio").workspace == "/c"
    assert parse("serve", "--workspace", "/d").workspace == "/d"


def test_list_params() -> None:
    assert list_params(parse("task", "ls")) == {}
    assert "removed" in list_params(parse("task", "ls", "--all"))["states"]
    assert list_params(parse("task", "ls", "--state", "running", "--state", "paused", "--state", "running")) == {
        "states": ["running", "paused"]
    }


def test_lifecycle_commands_and_rm_force() -> None:
    for name in ("stop", "start", "pause", "resume"):
        assert parse("task", name, "t-abc123").action == name
    args = parse("task", "rm", "--force", "t-abc123")
    assert args.action == "rm" and args.force


def test_subcommand_required() -> None:
    with pytest.raises(SystemExit) as info:
        parse("task")
    assert info.value.code == 2


# --- errors and exit codes --------------------------------------------------------------------------------
def test_policy_refusal_names_the_field() -> None:
    err = RpcError(-32015, "refused by policy: privileged: never", {"field": "options.privileged"})
    assert describe_rpc_error(err) == "refused by policy: privileged: never (field: options.privileged)"


def test_invalid_params_lists_what_is_wrong() -> None:
    data = [{"loc": ["taskId"], "msg": "String should match pattern"}, {"loc": [], "msg": "bad"}]
    assert describe_rpc_error(RpcError(-32602, "invalid params", data)) == (
        "invalid params: taskId: String should match pattern; bad"
    )
    assert describe_rpc_error(RpcError(-32010, "task 't-000000' not found", {"taskId": "t-000000"})) == (
        "task 't-000000' not found"
    )


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (RpcError(-32015, "refused", {"field": "network"}), 1, "dockyard: refused (field: network)"),
        (CliError("workspace /x is not a directory"), 1, "dockyard: workspace /x is not a directory"),
        (TimeoutError("no reply"), 1, "dockyard: timed out: no reply"),
        (KeyboardInterrupt(), 130, "dockyard: interrupted"),
    ],
)
def test_main_maps_failures_to_exit_codes(
    exc: BaseException, code: int, text: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(_args: argparse.Namespace) -> int:
        raise exc

    monkeypatch.setattr(main, "resolve", lambda _target: boom)
    assert main.main(["task", "ls"]) == code
    assert capsys.readouterr().err.strip() == text


def test_resolve_finds_every_command() -> None:
    parser = build_parser()
    targets = set()
    for argv in (["serve"], ["doctor"], ["demo"], ["image", "build"], ["task", "ls"], ["task", "new", "x"]):
        targets.add(parser.parse_args(argv).run)
    for name in ("show", "logs", "exec", "shell", "stop", "rm"):
        extra = ["--", "true"] if name == "exec" else []
        targets.add(parser.parse_args(["task", name, "t-abc123", *extra]).run)
    for target in targets:
        assert callable(main.resolve(target)), target


def test_exit_status() -> None:
    assert [exit_status(c) for c in (0, 3, 255, 256, -1)] == [0, 3, 255, 1, 1]


# --- formatting ----------------------------------------------------------------------------------------
def test_parse_time_handles_docker_nanoseconds_and_zero() -> None:
    assert parse_time("2026-01-02T11:57:00.123456789Z") == datetime(2026, 1, 2, 11, 57, 0, 123456, tzinfo=UTC)
    assert parse_time("0001-01-01T00:00:00Z") is None
    assert parse_time("yesterday") is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [(timedelta(seconds=5), "5s"), (timedelta(minutes=3), "3m"), (timedelta(hours=2), "2h"), (timedelta(days=4), "4d")],
)
def test_age(delta: timedelta, text: str) -> None:
    assert age((NOW - delta).isoformat().replace("+00:00", "Z"), NOW) == text


def test_age_of_nonsense_and_future() -> None:
    assert age("", NOW) == "?"
    assert age((NOW + timedelta(minutes=1)).isoformat(), NOW) == "0s"


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (None, 0, 1023, 1536, 2 * 1024**3)] == ["-", "0 B", "1023 B", "1.5 KiB", "2.0 GiB"]


def test_resources_text() -> None:
    assert resources_text(TASK["resources"]) == "256 MiB, 0.5 CPU, 64 pids"
    assert resources_text(None) == "defaults"


def test_task_row_and_table() -> None:
    assert task_row(TASK, NOW) == ["t-abc123", "fix the bug", "failed", "oom", "dockyard/testbox:0.1.0", "2m"]
    text = render(tasks_table([TASK], NOW))
    for column in ("ID", "TITLE", "STATE", "REASON", "IMAGE", "AGE", "t-abc123", "fix the bug", "oom"):
        assert column in text


def test_security_facts_all_hardened() -> None:
    facts = security_facts(HARDENED)
    assert all(ok for _what, _value, ok in facts), facts
    assert ("user", "1000:1000", True) in facts


@pytest.mark.parametrize(
    ("change", "weak"),
    [
        ({"user": ""}, "user"),
        ({"user": "root"}, "user"),
        ({"capDrop": []}, "capabilities dropped"),
        ({"capAdd": ["NET_ADMIN"]}, "capabilities added"),
        ({"readOnlyRootfs": False}, "read-only root fs"),
        ({"securityOpt": []}, "no-new-privileges"),
        ({"networkMode": "bridge"}, "network"),
    ],
)
def test_security_facts_flag_weakness(change: dict[str, Any], weak: str) -> None:
    failing = [what for what, _v, ok in security_facts({**HARDENED, **change}) if not ok]
    assert failing == [weak]


def test_status_view_shows_every_part() -> None:
    status = {
        "task": TASK,
        "inspect": {**HARDENED, "running": False, "exitCode": 137, "oomKilled": True},
        "stats": {"cpuPercent": 1.5, "memoryBytes": 1024, "memoryLimitBytes": 268435456, "pids": 2},
        "top": {"titles": ["PID", "CMD"], "processes": [["1", "sleep"]]},
    }
    text = render(status_view(status))
    for part in ("task t-abc123", "failed (oom)", "com.example.owner=alice", "MY-VAR", "exit code", "137"):
        assert part in text
    for part in ("security", "read-only root fs", "1.50 %", "processes", "sleep", "0.5"):
        assert part in text


def test_status_view_of_a_task_without_container() -> None:
    text = render(status_view({"task": {**TASK, "state": "removed", "containerId": None, "reason": None}}))
    assert "removed" in text and "security" not in text


# --- streams ---------------------------------------------------------------------------------------------
def note(method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def test_exec_stream_writes_only_its_exec_in_order() -> None:
    out, err = io.StringIO(), io.StringIO()
    stream = ExecStream("cli-1", out, err)
    stream(note(m.OUTPUT, execId="cli-1", stream="stdout", data="a", seq=1))
    stream(note(m.OUTPUT, execId="other", stream="stdout", data="X", seq=1))
    stream(note(m.OUTPUT, execId="cli-1", stream="stderr", data="e", seq=2))
    stream(note(m.OUTPUT, execId="cli-1", stream="stdout", data="b", seq=3))
    stream(note(m.TASK_CHANGED, task={}))
    assert not stream.exited.is_set()
    stream(note(m.EXEC_EXITED, execId="cli-1", exitCode=3))
    assert (out.getvalue(), err.getvalue(), stream.exit_code, stream.chunks) == ("ab", "e", 3, 3)
    assert stream.exited.is_set()


def test_client_listeners_get_notifications_and_survive_a_bad_one(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[str] = []
    client = DaemonClient(Path("."), on_notification=lambda msg: seen.append("first:" + msg["method"]))

    def broken(_msg: dict[str, Any]) -> None:
        raise ValueError("listener bug")

    client.add_listener(broken)
    remove = client.add_listener(lambda msg: seen.append("third:" + msg["method"]))
    client._dispatch(note("a"))
    remove()
    remove()  # twice is fine
    client._dispatch(note("b"))
    assert seen == ["first:a", "third:a", "first:b"]
    assert "listener bug" in capsys.readouterr().err


def test_line_buffer_forwards_whole_lines() -> None:
    lines = LineBuffer()
    assert lines.feed(b"echo a\necho") == "echo a\n"
    assert lines.feed(b" b\nexit") == "echo b\n"
    assert lines.flush() == "exit"
    assert lines.flush() == ""


def test_session_output_waits_for_its_session_id(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    output = SessionOutput()
    output(note(m.SESSION_OUTPUT, sessionId="s-000001", data="early ", seq=1))
    output(note(m.SESSION_OUTPUT, sessionId="s-999999", data="other", seq=1))
    output.attach("s-000001")
    output(note(m.SESSION_OUTPUT, sessionId="s-000001", data="late", seq=2))
    output(note(m.SESSION_EXITED, sessionId="s-000001", exitCode=4))
    assert capsysbinary.readouterr().out == b"early late"
    assert output.exited.is_set() and output.exit_code == 4


def test_build_view_keeps_milestones_and_updates_the_status() -> None:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    updates: list[str] = []
    view = BuildView(console, updates.append)
    for line in ("[1/3] base present", "Step 4/9 : RUN apt-get [x]", "", "dockyard/sandbox:0.1.0 ready (abc) in 3 s"):
        view(line)
    out = console.file
    assert isinstance(out, io.StringIO)
    assert out.getvalue().splitlines() == ["[1/3] base present", "dockyard/sandbox:0.1.0 ready (abc) in 3 s"]
    assert len(updates) == 3 and r"apt-get \[x]" in updates[1]  # escaped for rich markup
    assert is_milestone("[2/2] importing") and not is_milestone("Step 1/2 : FROM x")


# --- doctor (the parts that need no engine) ------------------------------------------------------------------
def test_check_python() -> None:
    assert doctor.check_python((3, 11, 0)).ok
    old = doctor.check_python((3, 10, 9))
    assert not old.ok and old.failed and "3.11" in old.hint


def test_check_workspace_and_git(tmp_path: Path) -> None:
    assert doctor.check_workspace(tmp_path).ok
    missing = doctor.check_workspace(tmp_path / "nope")
    assert not missing.ok and missing.failed
    git = doctor.check_git(tmp_path)
    assert not git.ok and not git.failed and "git init" in git.hint


def test_check_journal(tmp_path: Path) -> None:
    fresh = doctor.check_journal(tmp_path)
    assert fresh.ok and "not created yet" in fresh.detail
    journal = Journal.for_workspace(tmp_path)
    journal.open()
    journal.append("task", {"id": "t-abc123"})
    journal.append("task", {"id": "t-abc124"})
    journal.close()
    healthy = doctor.check_journal(tmp_path)
    assert healthy.ok and "2 records, last seq 2" in healthy.detail
    path = tmp_path / ".dockyard" / "state" / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(lines[0].replace(b"t-abc123", b"t-XXXXXX") + lines[1])
    broken = doctor.check_journal(tmp_path)
    assert not broken.ok and broken.failed and "corrupt" in broken.detail


def test_doctor_render_marks_and_hints() -> None:
    checks = [
        doctor.Check("one", True, "fine"),
        doctor.Check("two", False, "broken", "do this"),
        doctor.Check("three", False, "meh", "maybe that", required=False),
    ]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    doctor.render(console, checks)
    out = console.file
    assert isinstance(out, io.StringIO)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✓ one") and lines[1].startswith("✗ two") and "fix: do this" in lines[2]
    assert lines[3].startswith("! three") and "fix: maybe that" in lines[4]


# --- command handlers against a fake daemon -------------------------------------------------------------------
class FakeClient:
    """Answers requests from ``replies`` (a value, or a function of the params); emits exec notifications."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.replies = replies
        self.calls: list[tuple[str, Any]] = []
        self.listeners: list[Any] = []
        self.closed = False
        self.pending: dict[int, str] = {}
        self.cancelled: list[int] = []

    def request(self, method: str, params: Any, timeout: float = 120) -> Any:
        self.calls.append((method, params))
        reply = self.replies[method]
        if isinstance(reply, BaseException):
            raise reply
        return reply(params) if callable(reply) else reply

    def add_listener(self, callback: Any) -> Any:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)

    def emit(self, method: str, **params: Any) -> None:
        for listener in list(self.listeners):
            listener(note(method, **params))

    def send_request(self, method: str, params: Any) -> int:
        self.pending[len(self.pending) + 1] = method
        self.calls.append((method, params))
        return len(self.pending)

    def response(self, msg_id: int, timeout: float = 120) -> Any:
        reply = self.replies[self.pending[msg_id]]
        return reply(self, self.calls[msg_id - 1][1]) if callable(reply) else reply

    def cancel(self, msg_id: int) -> None:
        self.cancelled.append(msg_id)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``fake(replies)`` -> a FakeClient every command module's ``daemon()`` yields."""
    from dockyard.server.cli import exec_cmd, shell, tasks

    def install(replies: dict[str, Any]) -> FakeClient:
        client = FakeClient(replies)

        @contextlib.contextmanager
        def daemon(_args: argparse.Namespace, workspace: Path | None = None) -> Any:
            yield client

        for module in (tasks, exec_cmd, shell):
            monkeypatch.setattr(module, "daemon", daemon)
        return client

    return install


def run_main(*argv: str) -> int:
    return main.main(list(argv))


def test_task_new_prints_a_line_or_json(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = fake({m.CREATE_TASK: {**TASK, "state": "running", "reason": None}})
    assert run_main("task", "new", "fix the bug", "--memory", "256") == 0
    assert client.calls == [(m.CREATE_TASK, {"title": "fix the bug", "resources": {"memoryMb": 256}})]
    out = capsys.readouterr().out
    assert "created t-abc123" in out and "running" in out and "256 MiB, 0.5 CPU, 64 pids" in out
    assert run_main("task", "new", "fix the bug", "--json") == 0
    assert json.loads(capsys.readouterr().out)["labels"]["com.example.owner"] == "alice"


def test_task_ls(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = fake({m.LIST_TASKS: {"tasks": []}})
    assert run_main("task", "ls") == 0
    assert "no tasks (try --all)" in capsys.readouterr().out
    client.replies[m.LIST_TASKS] = {"tasks": [TASK, {**TASK, "id": "t-000001", "createdAt": "2026-01-01T00:00:00Z"}]}
    assert run_main("task", "ls", "--json", "--state", "failed") == 0
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == ["t-000001", "t-abc123"]  # oldest first
    assert client.calls[-1] == (m.LIST_TASKS, {"states": ["failed"]})
    assert run_main("task", "ls") == 0
    assert "fix the bug" in capsys.readouterr().out


def test_task_show_asks_for_details_by_state(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def get(params: dict[str, Any]) -> dict[str, Any]:
        status: dict[str, Any] = {"task": {**TASK, "state": "running", "reason": None}}
        if "inspect" in params.get("include", []):
            status["inspect"] = HARDENED
        return status

    client = fake({m.GET_TASK: get})
    assert run_main("task", "show", "t-abc123") == 0
    assert client.calls[-1] == (m.GET_TASK, {"taskId": "t-abc123", "include": ["inspect", "stats", "top"]})
    assert "security" in capsys.readouterr().out
    client.replies[m.GET_TASK] = {"task": {**TASK, "state": "removed"}}
    client.calls.clear()
    assert run_main("task", "show", "t-abc123", "--json") == 0
    assert len(client.calls) == 1 and json.loads(capsys.readouterr().out)["task"]["state"] == "removed"


def test_task_logs_and_lifecycle(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = fake(
        {m.LOGS: {"text": "a\nb"}, m.REMOVE_TASK: {"removed": True}, m.STOP_TASK: {**TASK, "state": "stopped"}}
    )
    assert run_main("task", "logs", "t-abc123", "--tail", "2") == 0
    assert capsys.readouterr().out == "a\nb\n"
    assert client.calls[-1] == (m.LOGS, {"taskId": "t-abc123", "tail": 2})
    assert run_main("task", "rm", "t-abc123", "--force") == 0
    assert client.calls[-1] == (m.REMOVE_TASK, {"taskId": "t-abc123", "force": True})
    assert "removed t-abc123" in capsys.readouterr().out
    assert run_main("task", "stop", "t-abc123", "--json") == 0
    assert json.loads(capsys.readouterr().out)["state"] == "stopped"


def exec_reply(exit_code: int, **extra: Any) -> Any:
    def reply(client: FakeClient, params: dict[str, Any]) -> dict[str, Any]:
        exec_id = params["execId"]
        client.emit(m.OUTPUT, taskId="t-abc123", execId=exec_id, stream="stdout", data="hi\n", seq=1)
        client.emit(m.OUTPUT, taskId="t-abc123", execId=exec_id, stream="stderr", data="err\n", seq=2)
        client.emit(m.EXEC_EXITED, execId=exec_id, exitCode=exit_code)
        return {"execId": exec_id, "exitCode": exit_code, "durationMs": 5, "truncated": False, **extra}

    return reply


def test_task_exec_streams_and_passes_the_exit_code(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client = fake({m.EXEC: exec_reply(3)})
    assert run_main("task", "exec", "t-abc123", "--", "sh", "-c", "exit 3") == 3
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("hi\n", "err\n")
    assert client.calls[0][1]["command"] == ["sh", "-c", "exit 3"] and client.listeners == []


def test_task_exec_timeout_is_reported(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    fake({m.EXEC: exec_reply(137, timedOut=True)})
    assert run_main("task", "exec", "t-abc123", "--timeout", "1", "--", "sleep", "9") == 137
    assert "timed out after 1 s" in capsys.readouterr().err


def test_task_exec_ctrl_c_cancels(fake: Any, capsys: pytest.CaptureFixture[str]) -> None:
    answers: list[Any] = [KeyboardInterrupt(), RpcError(-32800, "cancelled", {"exitCode": 137, "cancelled": True})]

    def reply(_client: FakeClient, _params: dict[str, Any]) -> Any:
        raise answers.pop(0)

    client = fake({m.EXEC: reply})
    assert run_main("task", "exec", "t-abc123", "--", "sleep", "300") == 130
    assert client.cancelled == [1] and "cancelling" in capsys.readouterr().err


def test_task_shell_without_a_terminal(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"echo hi\nexit 4")
    os.close(write_fd)
    sent: list[str] = []

    def session_input(params: dict[str, Any]) -> dict[str, Any]:
        sent.append(params["data"])
        if params["data"].endswith("\x04"):
            client.emit(m.SESSION_OUTPUT, sessionId="s-000001", data="hi\r\n", seq=1)
            client.emit(m.SESSION_EXITED, sessionId="s-000001", exitCode=4)
        return {}

    client = fake({m.OPEN_SESSION: {"sessionId": "s-000001"}, m.SESSION_INPUT: session_input})
    monkeypatch.setattr(sys, "stdin", os.fdopen(read_fd, "r"))
    assert run_main("task", "shell", "t-abc123", "--command", "sh") == 4
    assert sent == ["echo hi\n", "exit 4\x04"]
    assert client.calls[0][1]["command"] == "sh"
    assert all(method != m.CLOSE_SESSION for method, _ in client.calls)


def test_daemon_that_dies_at_start_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from dockyard.server.cli import common

    args = parse("--workspace", str(tmp_path), "task", "ls")
    dying = [sys.executable, "-c", "import sys; sys.stderr.write('journal is on fire'); sys.exit(2)"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(common, "daemon_command", lambda _debug: dying)
        with pytest.raises(CliError) as info, common.daemon(args):
            pass
    assert "could not start the daemon" in info.value.message
    assert "journal is on fire" in capsys.readouterr().err
