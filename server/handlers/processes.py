"""Processes in a task: exec, logs, PTY sessions."""

from __future__ import annotations

import threading

from dockyard.protocol import methods as m
from dockyard.protocol.exec import (
    ExecParams,
    ExecResult,
    OpenSessionParams,
    ResizeSessionParams,
    Session,
    SessionInputParams,
    SessionRef,
)
from dockyard.protocol.task import LogsParams, LogsResult
from dockyard.server.handlers import handles
from dockyard.server.runtime import Runtime


@handles(m.EXEC)
def exec_command(rt: Runtime, params: ExecParams, cancel: threading.Event) -> ExecResult:
    return rt.execs.run(params, cancel)


@handles(m.LOGS)
def logs(rt: Runtime, params: LogsParams, _cancel: threading.Event) -> LogsResult:
    return LogsResult(text=rt.reads.logs(params))


@handles(m.OPEN_SESSION)
def open_session(rt: Runtime, params: OpenSessionParams, _cancel: threading.Event) -> Session:
    return rt.sessions.open(params)


@handles(m.SESSION_INPUT)
def session_input(rt: Runtime, params: SessionInputParams, _cancel: threading.Event) -> Session:
    return rt.sessions.input(params)


@handles(m.RESIZE_SESSION)
def resize_session(rt: Runtime, params: ResizeSessionParams, _cancel: threading.Event) -> Session:
    return rt.sessions.resize(params)


@handles(m.CLOSE_SESSION)
def close_session(rt: Runtime, params: SessionRef, _cancel: threading.Event) -> Session:
    return rt.sessions.close(params)
