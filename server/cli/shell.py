"""``dockyard task shell ID``: a PTY session in the task, driven from this terminal.

On a terminal the local tty goes raw (every key, Ctrl-C included, goes to the task) and SIGWINCH becomes
``resizeSession``. Without a terminal, complete lines from stdin are forwarded and end-of-input sends
Ctrl-D, so ``echo 'ls; exit 3' | dockyard task shell ID`` works. Input is sent one request at a time, in order.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import os
import select
import shutil
import signal
import sys
import termios
import threading
import tty
from collections.abc import Iterator
from types import FrameType
from typing import Any

from dockyard.protocol import methods as m
from dockyard.server.cli.common import daemon
from dockyard.server.cli.rpc import DaemonClient, Message

POLL_S = 0.1
EXIT_WAIT_S = 10.0
EOT = "\x04"  # Ctrl-D: end of input for the shell reading the PTY


class SessionOutput:
    """A notification listener: writes the session's output to stdout and notes when it exits."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.backlog: list[Message] = []  # anything that arrived before we knew our session id
        self.exited = threading.Event()
        self.exit_code: int | None = None
        self._lock = threading.Lock()

    def attach(self, session_id: str) -> None:
        with self._lock:
            self.session_id = session_id
            backlog, self.backlog = self.backlog, []
        for message in backlog:
            self(message)

    def __call__(self, message: Message) -> None:
        params = message.get("params")
        if not isinstance(params, dict) or "sessionId" not in params:
            return
        with self._lock:
            if self.session_id is None:
                self.backlog.append(message)
                return
        if params["sessionId"] != self.session_id:
            return
        if message.get("method") == m.SESSION_OUTPUT:
            sys.stdout.buffer.write(str(params.get("data", "")).encode("utf-8", "replace"))
            sys.stdout.buffer.flush()
        elif message.get("method") == m.SESSION_EXITED:
            self.exit_code = params.get("exitCode")
            self.exited.set()


def terminal_size() -> tuple[int, int]:
    """(cols, rows) of the terminal on stdout/stdin, clamped to what the protocol accepts."""
    size = shutil.get_terminal_size((80, 24))
    return max(1, min(size.columns, 1000)), max(1, min(size.lines, 1000))


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class LineBuffer:
    """Bytes in, complete lines out (the rest at end of input), decoded as UTF-8."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> str:
        self.pending += data
        cut = self.pending.rfind(b"\n") + 1
        lines, self.pending = self.pending[:cut], self.pending[cut:]
        return lines.decode("utf-8", "replace")

    def flush(self) -> str:
        rest, self.pending = self.pending, b""
        return rest.decode("utf-8", "replace")


class ShellLoop:
    """Pumps stdin into the session until it exits (or stdin ends and it then exits)."""

    def __init__(self, client: DaemonClient, session_id: str, output: SessionOutput, interactive: bool) -> None:
        self.client = client
        self.session_id = session_id
        self.output = output
        self.interactive = interactive
        self.resized = threading.Event()
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.lines = LineBuffer()

    def send(self, data: str) -> None:
        if data:
            self.client.request(m.SESSION_INPUT, {"sessionId": self.session_id, "data": data}, timeout=60)

    def on_winch(self, _signum: int, _frame: FrameType | None) -> None:
        self.resized.set()

    def _resize(self) -> None:
        self.resized.clear()
        cols, rows = terminal_size()
        self.client.request(m.RESIZE_SESSION, {"sessionId": self.session_id, "cols": cols, "rows": rows})

    def _forward(self, chunk: bytes) -> None:
        if self.interactive:
            self.send(self.decoder.decode(chunk))
        else:
            self.send(self.lines.feed(chunk))

    def run(self, fd: int) -> bool:
        """True when the session exited; False when stdin ended first."""
        while not self.output.exited.is_set() and not self.client.closed:
            if self.resized.is_set():
                self._resize()
            ready, _, _ = select.select([fd], [], [], POLL_S)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.send(self.lines.flush() + EOT)
                return False
            self._forward(chunk)
        return True


def _open(client: DaemonClient, args: argparse.Namespace) -> dict[str, Any]:
    cols, rows = terminal_size()
    params: dict[str, Any] = {"taskId": args.task_id, "cols": cols, "rows": rows}
    if args.shell_command:
        params["command"] = args.shell_command
    return dict(client.request(m.OPEN_SESSION, params))


def _drive(loop: ShellLoop, fd: int) -> None:
    if not loop.interactive:
        if not loop.run(fd):
            loop.output.exited.wait(EXIT_WAIT_S)
        return
    previous = signal.signal(signal.SIGWINCH, loop.on_winch)
    try:
        with raw_terminal(fd):
            loop.run(fd)
    finally:
        signal.signal(signal.SIGWINCH, previous)


def cmd_shell(args: argparse.Namespace) -> int:
    fd = sys.stdin.fileno()
    interactive = os.isatty(fd)
    output = SessionOutput()
    with daemon(args) as client:
        client.add_listener(output)
        session = _open(client, args)
        output.attach(session["sessionId"])
        loop = ShellLoop(client, session["sessionId"], output, interactive)
        try:
            _drive(loop, fd)
        finally:
            if not output.exited.is_set() and not client.closed:
                with contextlib.suppress(Exception):
                    client.request(m.CLOSE_SESSION, {"sessionId": session["sessionId"]}, timeout=10)
    if interactive:
        sys.stderr.write("\r\n")
    code = output.exit_code
    return code if code is not None and 0 <= code <= 255 else (0 if output.exited.is_set() else 1)
