"""Which params/result model belongs to which method: the single table the server and the schema use."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from . import methods as m
from .exec import (
    ExecParams,
    ExecResult,
    OpenSessionParams,
    ResizeSessionParams,
    Session,
    SessionInputParams,
    SessionRef,
)
from .git import Diff, DiffTaskParams, IntegrateTaskParams, Integration
from .notifications import ExecExited, Output, SessionExited, SessionOutput, Status, TaskChanged
from .task import (
    CreateTaskParams,
    GetTaskParams,
    KillTaskParams,
    ListTasksParams,
    ListTasksResult,
    LogsParams,
    LogsResult,
    RemoveTaskParams,
    RemoveTaskResult,
    StopTaskParams,
    Task,
    TaskRef,
    TaskStatus,
)


@dataclass(frozen=True)
class MethodSpec:
    params: type[BaseModel]
    result: type[BaseModel]


METHODS: dict[str, MethodSpec] = {
    m.CREATE_TASK: MethodSpec(CreateTaskParams, Task),
    m.LIST_TASKS: MethodSpec(ListTasksParams, ListTasksResult),
    m.GET_TASK: MethodSpec(GetTaskParams, TaskStatus),
    m.START_TASK: MethodSpec(TaskRef, Task),
    m.STOP_TASK: MethodSpec(StopTaskParams, Task),
    m.RESTART_TASK: MethodSpec(StopTaskParams, Task),
    m.KILL_TASK: MethodSpec(KillTaskParams, Task),
    m.PAUSE_TASK: MethodSpec(TaskRef, Task),
    m.RESUME_TASK: MethodSpec(TaskRef, Task),
    m.REMOVE_TASK: MethodSpec(RemoveTaskParams, RemoveTaskResult),
    m.EXEC: MethodSpec(ExecParams, ExecResult),
    m.LOGS: MethodSpec(LogsParams, LogsResult),
    m.OPEN_SESSION: MethodSpec(OpenSessionParams, Session),
    m.SESSION_INPUT: MethodSpec(SessionInputParams, Session),
    m.RESIZE_SESSION: MethodSpec(ResizeSessionParams, Session),
    m.CLOSE_SESSION: MethodSpec(SessionRef, Session),
    m.DIFF_TASK: MethodSpec(DiffTaskParams, Diff),
    m.INTEGRATE_TASK: MethodSpec(IntegrateTaskParams, Integration),
}

NOTIFICATIONS: dict[str, type[BaseModel]] = {
    m.TASK_CHANGED: TaskChanged,
    m.OUTPUT: Output,
    m.EXEC_EXITED: ExecExited,
    m.SESSION_OUTPUT: SessionOutput,
    m.SESSION_EXITED: SessionExited,
    m.STATUS: Status,
}
