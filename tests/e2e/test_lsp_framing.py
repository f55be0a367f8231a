"""The daemon's stdio framing at the byte level: a raw pipe, frames written by hand, no client library.

pygls alone has no frame cap and drops malformed envelopes silently (DESIGN §7); the daemon must answer
each bad frame (-32600 / -32700, id null when it cannot know the id) and keep serving.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.server.cli.rpc import read_frame

pytestmark = pytest.mark.timeout(60)

MAX_FRAME = 1024
REPLY_S = 15.0


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def message(obj: Any) -> bytes:
    return frame(json.dumps(obj).encode())


class RawDaemon:
    """``dockyard serve --stdio --max-frame 1024`` with a reader thread that parses the replies' frames."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dockyard.server", "serve", "--stdio", "--max-frame", str(MAX_FRAME)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=workspace,
            env=dict(os.environ),
        )
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.notifications: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            while (msg := read_frame(self.proc.stdout)) is not None:
                if "method" in msg and "id" not in msg:
                    self.notifications.append(msg)
                else:
                    self.replies.put(msg)
        finally:
            self.replies.put(None)  # end of output

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def reply(self) -> dict[str, Any]:
        try:
            msg = self.replies.get(timeout=REPLY_S)
        except queue.Empty:
            raise AssertionError(f"no reply within {REPLY_S}s: the daemon hangs the client") from None
        assert msg is not None, f"the daemon closed its output (exit code {self.proc.poll()})"
        assert msg.get("jsonrpc") == "2.0", msg
        return msg

    def no_more_replies(self) -> None:
        assert self.replies.empty(), self.replies.get_nowait()

    def request(self, msg_id: int, method: str, params: Any) -> dict[str, Any]:
        self.send(message({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
        reply = self.reply()
        assert reply["id"] == msg_id, reply
        return reply

    def initialize(self, msg_id: int = 1) -> dict[str, Any]:
        params = {"processId": os.getpid(), "rootUri": self.workspace.as_uri(), "capabilities": {}}
        reply = self.request(msg_id, "initialize", params)
        self.send(message({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # end of input: the daemon exits
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def daemon(workspace: Path) -> Iterator[RawDaemon]:
    d = RawDaemon(workspace)
    try:
        yield d
    finally:
        d.close()


def assert_error(reply: dict[str, Any], code: int, msg_id: Any = None) -> None:
    assert "result" not in reply, reply
    assert reply["id"] == msg_id, reply
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"], reply


def test_bad_frames_are_answered_and_the_daemon_keeps_serving(daemon: RawDaemon) -> None:
    # 1. a frame above the cap: read off and refused, never parsed
    oversized = json.dumps({"jsonrpc": "2.0", "id": 99, "method": "dockyard/listTasks", "params": {"x": "y" * 4096}})
    daemon.send(frame(oversized.encode()))
    reply = daemon.reply()
    assert_error(reply, -32600)
    assert str(MAX_FRAME) in reply["error"]["message"]

    # 2. malformed JSON
    daemon.send(frame(b'{"jsonrpc": "2.0", "id": 5, "method": '))
    assert_error(daemon.reply(), -32700)

    # 3. a JSON array (a batch: not supported) and other non-objects
    daemon.send(message([{"jsonrpc": "2.0", "id": 6, "method": "dockyard/listTasks", "params": {}}]))
    assert_error(daemon.reply(), -32600)
    for not_an_object in (42, "initialize", None):
        daemon.send(message(not_an_object))
        assert_error(daemon.reply(), -32600)

    # 4. an object that is not JSON-RPC 2.0: refused, with its id echoed
    daemon.send(message({"jsonrpc": "1.0", "id": 7, "method": "dockyard/listTasks"}))
    assert_error(daemon.reply(), -32600, msg_id=7)

    # 5. bytes that are not UTF-8
    daemon.send(frame(b'{"jsonrpc": "2.0", "id": 8, "method": "\xff\xfe"}'))
    assert_error(daemon.reply(), -32700)

    # ... and after all of that, a normal session works
    init = daemon.initialize()
    assert init["result"]["capabilities"]["experimental"]["dockyard"]["protocolVersion"] == "1.0"
    assert daemon.request(2, "dockyard/listTasks", {}) == {"jsonrpc": "2.0", "id": 2, "result": {"tasks": []}}
    daemon.no_more_replies()


def test_oversized_frame_mid_session_then_the_next_frame_in_the_same_write(daemon: RawDaemon) -> None:
    daemon.initialize()
    big = json.dumps({"jsonrpc": "2.0", "id": 10, "method": "dockyard/createTask", "params": {"title": "x" * 4096}})
    assert len(big) > 4096 > MAX_FRAME
    follow = {"jsonrpc": "2.0", "id": 11, "method": "dockyard/listTasks", "params": {}}
    # the cap's discard must stop exactly at the frame's end: the next frame arrives in the same write
    daemon.send(frame(big.encode()) + message(follow))
    assert_error(daemon.reply(), -32600)
    assert daemon.reply() == {"jsonrpc": "2.0", "id": 11, "result": {"tasks": []}}

    # a frame exactly at the cap is still accepted
    padding = "p" * (MAX_FRAME - len(json.dumps({"jsonrpc": "2.0", "id": 12, "method": "dockyard/listTasks",
                                                   "params": {"states": []}, "x": ""})))  # fmt: skip
    exact = json.dumps(
        {"jsonrpc": "2.0", "id": 12, "method": "dockyard/listTasks", "params": {"states": []}, "x": padding}
    )
    assert len(exact) == MAX_FRAME
    daemon.send(frame(exact.encode()))
    assert daemon.reply() == {"jsonrpc": "2.0", "id": 12, "result": {"tasks": []}}


def test_header_problems_are_answered(daemon: RawDaemon) -> None:
    # no Content-Length at all (a header block with something else in it)
    daemon.send(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n")
    assert_error(daemon.reply(), -32600)
    # a Content-Length that is not a number
    daemon.send(b"Content-Length: lots\r\n\r\n")
    assert_error(daemon.reply(), -32600)
    # a Content-Type header next to Content-Length is fine
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}).encode()
    daemon.send(b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body))
    daemon.send(body)
    assert "result" in daemon.reply()
    assert daemon.request(2, "dockyard/listTasks", {})["result"] == {"tasks": []}


def test_requests_before_initialize_and_bad_params_get_answers(daemon: RawDaemon) -> None:
    # a dockyard request before initialize: an error, not silence
    reply = daemon.request(1, "dockyard/listTasks", {})
    assert reply["error"]["code"] == -32002
    daemon.initialize(msg_id=2)
    # params pygls would have to structure (an LSP method): refused with -32602 instead of hanging
    reply = daemon.request(3, "workspace/executeCommand", {"command": 5})
    assert_error(reply, -32602, msg_id=3)
    # params of a dockyard method that are not an object
    reply = daemon.request(4, "dockyard/createTask", [1, 2])
    assert_error(reply, -32602, msg_id=4)
    assert isinstance(reply["error"]["data"], list)
    # an unknown method
    reply = daemon.request(5, "dockyard/noSuchThing", {})
    assert_error(reply, -32601, msg_id=5)
    assert daemon.request(6, "dockyard/listTasks", {})["result"] == {"tasks": []}


@pytest.mark.docker
def test_notifications_are_json_rpc_2(daemon: RawDaemon, docker_engine: Any) -> None:
    """Every notification carries ``"jsonrpc": "2.0"`` (it once did not: pygls' client crashed on them)."""
    daemon.initialize()
    task = daemon.request(2, "dockyard/createTask", {"title": "raw", "image": "dockyard/testbox:0.1.0"})["result"]
    assert daemon.request(3, "dockyard/removeTask", {"taskId": task["id"], "force": True})["result"] == {
        "removed": True
    }
    methods = [n["method"] for n in daemon.notifications]
    assert {"dockyard/taskChanged", "dockyard/status"} <= set(methods), methods
    assert all(n.get("jsonrpc") == "2.0" for n in daemon.notifications), daemon.notifications
