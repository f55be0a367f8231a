"""Running commands in a task and interactive PTY sessions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .base import WireModel
from .task import EnvName, TaskId

ExecId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
SessionId = Annotated[str, StringConstraints(pattern=r"^s-[0-9a-f]{6,16}$")]


class ExecParams(WireModel):
    task_id: TaskId
    command: list[str] | str = Field(description="argv list, or a string run by /bin/sh -c")
    cwd: str | None = Field(default=None, max_length=4096)
    env: dict[EnvName, str] | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=86_400)
    stdin: str | None = None
    exec_id: ExecId | None = Field(default=None, description="Client-chosen id, to match output before the reply.")


class ExecResult(WireModel):
    exec_id: str
    exit_code: int
    duration_ms: int
    truncated: bool = Field(description="True when stdout/stderr here were cut; notifications carry it all.")
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    cancelled: bool = False


class OpenSessionParams(WireModel):
    task_id: TaskId
    command: list[str] | str | None = None
    cols: int = Field(default=80, ge=1, le=1000)
    rows: int = Field(default=24, ge=1, le=1000)
    env: dict[EnvName, str] | None = None


class SessionRef(WireModel):
    session_id: SessionId


class SessionInputParams(SessionRef):
    data: str = Field(max_length=1_048_576)


class ResizeSessionParams(SessionRef):
    cols: int = Field(ge=1, le=1000)
    rows: int = Field(ge=1, le=1000)


class Session(WireModel):
    session_id: str
    task_id: str
    command: list[str]
    cols: int
    rows: int
    state: Literal["open", "exited"]
    exit_code: int | None = None
