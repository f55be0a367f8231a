"""The Notifier the daemon uses: hands every notification to the event loop thread (pygls is not thread-safe)."""

from __future__ import annotations

import threading
from asyncio import AbstractEventLoop
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from dockyard.protocol import methods as m
from dockyard.protocol.notifications import (
    ExecExited,
    Output,
    SessionExited,
    SessionOutput,
    Status,
    TaskChanged,
)
from dockyard.protocol.task import Task

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

_LEVELS = {"error": types.MessageType.Error, "warning": types.MessageType.Warning, "info": types.MessageType.Info}


class LoopNotifier:
    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.loop: AbstractEventLoop | None = None

    def _send(self, method: str, params: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == getattr(loop, "_thread_id", None):
            self.server.protocol.notify(method, params)
        else:
            loop.call_soon_threadsafe(self.server.protocol.notify, method, params)

    def task_changed(self, task: Task) -> None:
        self._send(m.TASK_CHANGED, TaskChanged(task=task).to_wire())

    def status(self, counts: dict[str, int]) -> None:
        self._send(m.STATUS, Status(counts=counts, total=sum(counts.values())).to_wire())

    def output(self, task_id: str, exec_id: str, stream: str, data: str, seq: int) -> None:
        payload = Output(task_id=task_id, exec_id=exec_id, stream=stream, data=data, seq=seq)
        self._send(m.OUTPUT, payload.to_wire())

    def exec_exited(self, exec_id: str, exit_code: int) -> None:
        self._send(m.EXEC_EXITED, ExecExited(exec_id=exec_id, exit_code=exit_code).to_wire())

    def session_output(self, session_id: str, data: str, seq: int) -> None:
        self._send(m.SESSION_OUTPUT, SessionOutput(session_id=session_id, data=data, seq=seq).to_wire())

    def session_exited(self, session_id: str, exit_code: int | None) -> None:
        self._send(
            m.SESSION_EXITED, SessionExited(session_id=session_id, exit_code=exit_code).model_dump(by_alias=True)
        )

    def log(self, message: str, level: str = "info") -> None:
        params = types.LogMessageParams(type=_LEVELS.get(level, types.MessageType.Log), message=message)
        self._send(types.WINDOW_LOG_MESSAGE, params)
