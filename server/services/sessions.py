"""Interactive PTY sessions in a task: bytes in, bytes out as notifications, resize, exit."""

from __future__ import annotations

import codecs
import secrets
import threading
from dataclasses import dataclass

from dockyard.protocol.exec import OpenSessionParams, ResizeSessionParams, Session, SessionInputParams, SessionRef
from dockyard.server.adapters.docker_exec import ExecAdapter, PtyStream
from dockyard.server.errors import NotFound
from dockyard.server.services.execs import argv_of
from dockyard.server.services.notifier import Notifier
from dockyard.server.services.tasks import TaskService

DEFAULT_SHELL = ["/bin/sh", "-c", "if [ -x /bin/bash ]; then exec /bin/bash -l; else exec /bin/sh; fi"]


@dataclass
class _Live:
    session: Session
    pty: PtyStream
    container_id: str


class SessionService:
    def __init__(self, tasks: TaskService, execs: ExecAdapter, notifier: Notifier) -> None:
        self.tasks = tasks
        self.execs = execs
        self.notifier = notifier
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()

    def open(self, params: OpenSessionParams) -> Session:
        task, container_id = self.tasks.running_container(params.task_id, "open a session in")
        command = DEFAULT_SHELL if params.command is None else argv_of(params.command)
        session_id = "s-" + secrets.token_hex(4)
        pty = self.execs.start_pty(
            container_id, session_id, command, env=params.env or {}, cols=params.cols, rows=params.rows
        )
        session = Session(
            session_id=session_id,
            task_id=task.id,
            command=command,
            cols=params.cols,
            rows=params.rows,
            state="open",
        )
        with self._lock:
            self._live[session.session_id] = _Live(session, pty, container_id)
        threading.Thread(target=self._pump, args=(session.session_id,), daemon=True, name="pty-reader").start()
        return session

    def input(self, params: SessionInputParams) -> Session:
        live = self._get(params.session_id)
        live.pty.write(params.data.encode())
        return live.session

    def resize(self, params: ResizeSessionParams) -> Session:
        live = self._get(params.session_id)
        live.pty.resize(params.cols, params.rows)
        live.session = live.session.model_copy(update={"cols": params.cols, "rows": params.rows})
        return live.session

    def close(self, params: SessionRef) -> Session:
        live = self._get(params.session_id)
        self.execs.kill_exec(live.container_id, live.session.session_id)
        live.pty.close()
        if self.tasks.config.git.autocommit_on_detach:  # auto-commit point: a session/agent detached
            self.tasks.save_work(self.tasks.registry.get(live.session.task_id), "detach")
        return live.session.model_copy(update={"state": "exited"})

    def close_all(self) -> None:
        with self._lock:
            lives = list(self._live.values())
        for live in lives:
            live.pty.close()

    def _get(self, session_id: str) -> _Live:
        with self._lock:
            live = self._live.get(session_id)
        if live is None:
            raise NotFound(f"session {session_id!r} not found (or already exited)", {"sessionId": session_id})
        return live

    def _pump(self, session_id: str) -> None:
        live = self._get(session_id)
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        seq = 0
        while data := live.pty.read():
            text = decoder.decode(data)
            if text:
                seq += 1
                self.notifier.session_output(session_id, text, seq)
        with self._lock:
            self._live.pop(session_id, None)
        try:
            code = live.pty.exit_code()
        except Exception:
            code = None
        self.notifier.session_exited(session_id, code)
