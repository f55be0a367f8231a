"""Processes inside task containers: streamed execs (with kill) and PTY sessions, over the hijacked socket.

Why the socket: ``exec_run(stream=True)`` loses the exit code and cannot send stdin; ``exec_start(socket=True)``
gives both, and the multiplexed frames are demuxed here.

Why the marker: the Engine has no "kill this exec" call. Each exec runs with ``DOCKYARD_EXEC_ID=<key>`` in its
environment (inherited by its children); killing is a second exec that finds those processes in /proc. The
command itself runs unwrapped, so env names a shell would drop (``MY-VAR``) still reach it.
"""

from __future__ import annotations

import contextlib
import socket as socketlib
import time
from collections.abc import Iterator
from typing import Any

from docker.utils.socket import frames_iter

from dockyard.server.adapters.docker_engine import Engine, engine_errors

MARKER = "DOCKYARD_EXEC_ID"
# Kill every process of the container whose environment carries the exec's marker (children inherit it),
# and each one's process group (runc makes every exec a session leader). Only needs sh, tr and grep.
_KILLER = (
    'k="' + MARKER + '=$1"; for d in /proc/[0-9]*; do '
    'if tr "\\000" "\\n" <"$d/environ" 2>/dev/null | grep -qxF "$k"; then '
    'p=${d#/proc/}; kill -KILL -"$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; fi; done; exit 0'
)
STDOUT, STDERR = 1, 2


def _raw(sock: Any) -> socketlib.socket:
    raw = getattr(sock, "_sock", sock)
    assert isinstance(raw, socketlib.socket)
    return raw


class ExecStream:
    """One running exec: iterate :meth:`chunks`, then read :meth:`exit_code`."""

    def __init__(self, engine: Engine, exec_id: str, sock: Any) -> None:
        self.engine = engine
        self.exec_id = exec_id
        self._sock = sock

    def send_stdin(self, data: bytes) -> None:
        raw = _raw(self._sock)
        with engine_errors("writing exec stdin"):
            raw.sendall(data)
            raw.shutdown(socketlib.SHUT_WR)

    def chunks(self) -> Iterator[tuple[int, bytes]]:
        """(stream, bytes) frames until the process closes its output."""
        with engine_errors("reading exec output"):
            for stream, data in frames_iter(self._sock, tty=False):
                if data:
                    yield stream, data

    def exit_code(self, wait_s: float = 5.0) -> int:
        """The exit code; the engine may report Running briefly after the stream ended."""
        deadline = time.monotonic() + wait_s
        while True:
            with self.engine.call("inspecting exec") as client:
                info = client.api.exec_inspect(self.exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                return -1
            time.sleep(0.02)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._sock.close()


class PtyStream:
    """An interactive process with a terminal: raw bytes both ways, resizable."""

    def __init__(self, engine: Engine, exec_id: str, sock: Any) -> None:
        self.engine = engine
        self.exec_id = exec_id
        self._raw = _raw(sock)
        self._sock = sock

    def read(self) -> bytes:
        """Blocks; b"" when the process has ended."""
        try:
            return self._raw.recv(65536)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        with engine_errors("writing to session"):
            self._raw.sendall(data)

    def resize(self, cols: int, rows: int) -> None:
        with self.engine.call("resizing session") as client:
            client.api.exec_resize(self.exec_id, height=rows, width=cols)

    def exit_code(self) -> int | None:
        with self.engine.call("inspecting session") as client:
            code = client.api.exec_inspect(self.exec_id).get("ExitCode")
        return None if code is None else int(code)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._raw.shutdown(socketlib.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._sock.close()


class ExecAdapter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start_exec(
        self,
        container_id: str,
        exec_key: str,
        argv: list[str],
        *,
        env: dict[str, str],
        workdir: str | None,
        stdin: bool,
    ) -> ExecStream:
        environment = {**env, MARKER: exec_key}
        with self.engine.call("starting exec") as client:
            exec_id = client.api.exec_create(
                container_id,
                argv,
                stdout=True,
                stderr=True,
                stdin=stdin,
                environment=environment,
                workdir=workdir,
            )["Id"]
            sock = client.api.exec_start(exec_id, socket=True)
        return ExecStream(self.engine, exec_id, sock)

    def kill_exec(self, container_id: str, exec_key: str) -> None:
        """Kill the exec's whole process group (see module docstring)."""
        with self.engine.call("killing exec") as client:
            killer = client.api.exec_create(container_id, ["/bin/sh", "-c", _KILLER, "dockyard-kill", exec_key])
            client.api.exec_start(killer["Id"])

    def start_pty(
        self, container_id: str, session_key: str, argv: list[str], *, env: dict[str, str], cols: int, rows: int
    ) -> PtyStream:
        """``session_key`` marks the session's processes so :meth:`kill_exec` can end them on close."""
        environment = {"TERM": "xterm-256color", **env, MARKER: session_key}
        with self.engine.call("opening session") as client:
            exec_id = client.api.exec_create(
                container_id, argv, stdin=True, tty=True, stdout=True, stderr=True, environment=environment
            )["Id"]
            sock = client.api.exec_start(exec_id, socket=True, tty=True)
            pty = PtyStream(self.engine, exec_id, sock)
        with contextlib.suppress(Exception):
            pty.resize(cols, rows)
        return pty
