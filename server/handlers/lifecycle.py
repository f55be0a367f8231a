"""Task lifecycle methods."""

from __future__ import annotations

import threading

from dockyard.protocol import methods as m
from dockyard.protocol.task import (
    CreateTaskParams,
    GetTaskParams,
    KillTaskParams,
    ListTasksParams,
    ListTasksResult,
    RemoveTaskParams,
    RemoveTaskResult,
    StopTaskParams,
    Task,
    TaskRef,
    TaskStatus,
)
from dockyard.server.handlers import handles
from dockyard.server.runtime import Runtime


@handles(m.CREATE_TASK)
def create_task(rt: Runtime, params: CreateTaskParams, _cancel: threading.Event) -> Task:
    return rt.tasks.create(params)


@handles(m.LIST_TASKS)
def list_tasks(rt: Runtime, params: ListTasksParams, _cancel: threading.Event) -> ListTasksResult:
    return ListTasksResult(tasks=rt.tasks.list(params))


@handles(m.GET_TASK)
def get_task(rt: Runtime, params: GetTaskParams, _cancel: threading.Event) -> TaskStatus:
    return rt.reads.get(params)


@handles(m.START_TASK)
def start_task(rt: Runtime, params: TaskRef, _cancel: threading.Event) -> Task:
    return rt.tasks.start(params)


@handles(m.STOP_TASK)
def stop_task(rt: Runtime, params: StopTaskParams, _cancel: threading.Event) -> Task:
    return rt.tasks.stop(params)


@handles(m.RESTART_TASK)
def restart_task(rt: Runtime, params: StopTaskParams, _cancel: threading.Event) -> Task:
    return rt.tasks.restart(params)


@handles(m.KILL_TASK)
def kill_task(rt: Runtime, params: KillTaskParams, _cancel: threading.Event) -> Task:
    return rt.tasks.kill(params)


@handles(m.PAUSE_TASK)
def pause_task(rt: Runtime, params: TaskRef, _cancel: threading.Event) -> Task:
    return rt.tasks.pause(params)


@handles(m.RESUME_TASK)
def resume_task(rt: Runtime, params: TaskRef, _cancel: threading.Event) -> Task:
    return rt.tasks.resume(params)


@handles(m.REMOVE_TASK)
def remove_task(rt: Runtime, params: RemoveTaskParams, _cancel: threading.Event) -> RemoveTaskResult:
    rt.tasks.remove(params)
    return RemoveTaskResult(removed=True)
