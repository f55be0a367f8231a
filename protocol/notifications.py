"""Notifications the daemon sends to every client."""

from __future__ import annotations

from typing import Literal

from .base import WireModel
from .task import Task


class TaskChanged(WireModel):
    task: Task


class Output(WireModel):
    task_id: str
    exec_id: str
    stream: Literal["stdout", "stderr"]
    data: str
    seq: int


class ExecExited(WireModel):
    exec_id: str
    exit_code: int


class SessionOutput(WireModel):
    session_id: str
    data: str
    seq: int


class SessionExited(WireModel):
    session_id: str
    exit_code: int | None


class Status(WireModel):
    counts: dict[str, int]
    total: int


class DockyardCapabilities(WireModel):
    """`capabilities.experimental.dockyard` in the initialize result."""

    protocol_version: str
    server_version: str
    features: list[str]
