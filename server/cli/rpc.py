"""A small JSON-RPC client that spawns ``dockyard serve --stdio`` and reads raw JSON.

Raw on purpose: pygls' own client renames non-identifier keys in results of unknown methods (DESIGN §7),
and labels/env/stats are maps. Used by the CLI and by the e2e tests.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Message = dict[str, Any]


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.data = data


def encode(message: Message) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_frame(stream: IO[bytes]) -> Message | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is not None:
                break
            continue
        name, _, value = line.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    body = stream.read(length)
    return dict(json.loads(body))


class DaemonClient:
    """``with DaemonClient(workspace) as c: c.request("dockyard/listTasks", {})``."""

    def __init__(
        self,
        workspace: Path,
        *,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        capabilities: dict[str, Any] | None = None,
        on_notification: Callable[[Message], None] | None = None,
        stderr: IO[bytes] | int | None = None,
        new_session: bool = False,
    ) -> None:
        self.workspace = workspace.resolve()
        self.command = command or [sys.executable, "-m", "dockyard.server", "serve", "--stdio"]
        self.env = {**os.environ, **(env or {})}
        self.capabilities = capabilities or {}
        self.notifications: list[Message] = []
        self.listeners: list[Callable[[Message], None]] = [on_notification] if on_notification else []
        self.stderr = stderr  # where the daemon's stderr goes (None: inherited)
        self.new_session = new_session  # own session: a terminal's Ctrl-C reaches us, not the daemon
        self._cond = threading.Condition()
        self._responses: dict[Any, queue.Queue[Message]] = {}
        self._ids = itertools.count(1)
        self._write_lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self.initialize_result: Message = {}
        self.closed = False

    # --- process --------------------------------------------------------------------------------------
    def start(self) -> DaemonClient:
        self.proc = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=self.env,
            cwd=self.workspace,
            start_new_session=self.new_session,
        )
        threading.Thread(target=self._reader, daemon=True, name="rpc-reader").start()
        self.initialize_result = self.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": self.workspace.as_uri(), "capabilities": self.capabilities},
            timeout=60,
        )
        self.notify("initialized", {})
        return self

    def close(self, timeout: float = 10) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.request("shutdown", None, timeout=timeout)
            self.notify("exit", None)
            self.proc.wait(timeout=timeout)
        except (RpcError, TimeoutError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> DaemonClient:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- wire -------------------------------------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self.send_raw(encode({"jsonrpc": "2.0", "method": method, "params": params}))

    def send_request(self, method: str, params: Any) -> int:
        msg_id = next(self._ids)
        self._responses[msg_id] = queue.Queue()
        self.send_raw(encode({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}))
        return msg_id

    def response(self, msg_id: Any, timeout: float = 120) -> Any:
        """The result of request ``msg_id``; RpcError for an error reply."""
        try:
            reply = self._responses.setdefault(msg_id, queue.Queue()).get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply to request {msg_id} in {timeout}s") from None
        if "error" in reply:
            err = reply["error"]
            raise RpcError(err["code"], err["message"], err.get("data"))
        return reply.get("result")

    def request(self, method: str, params: Any, timeout: float = 120) -> Any:
        return self.response(self.send_request(method, params), timeout)

    def add_listener(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        """Call ``callback(message)`` for every notification as it arrives (on the reader thread, in order,
        after it is appended to ``notifications``); returns a function that removes it again."""
        self.listeners.append(callback)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self.listeners.remove(callback)

        return remove

    def _dispatch(self, message: Message) -> None:
        for callback in list(self.listeners):
            try:
                callback(message)
            except Exception:  # a faulty listener must not stop the reader
                traceback.print_exc()

    def cancel(self, msg_id: int) -> None:
        self.notify("$/cancelRequest", {"id": msg_id})

    def _reader(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while (message := read_frame(self.proc.stdout)) is not None:
            if "method" in message and "id" not in message:
                with self._cond:
                    self.notifications.append(message)
                    self._cond.notify_all()
                self._dispatch(message)
            elif "id" in message and "method" not in message:
                self._responses.setdefault(message["id"], queue.Queue()).put(message)
        self.closed = True
        gone = {"error": {"code": -32099, "message": "the daemon closed its output (exited)"}}
        for pending in list(self._responses.values()):
            pending.put(gone)
        with self._cond:
            self._cond.notify_all()

    def wait_for(
        self, method: str, predicate: Callable[[Any], bool] = lambda _p: True, timeout: float = 60, start: int = 0
    ) -> Any:
        """The params of the first notification ``method`` (from index ``start``) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for note in self.notifications[start:]:
                    if note["method"] == method and predicate(note.get("params")):
                        return note.get("params")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {method} notification in {timeout}s")
                self._cond.wait(remaining)
