"""Task objects and the lifecycle requests (DESIGN §4)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from .base import WireModel

TaskId = Annotated[str, StringConstraints(pattern=r"^t-[0-9a-f]{6,12}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")]
LabelKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$")]


class TaskState(StrEnum):
    CREATING = "creating"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FAILED = "failed"
    REMOVED = "removed"
    LOST = "lost"
    INTEGRATED = "integrated"
    CONFLICTED = "conflicted"


class Resources(WireModel):
    """Limits of one task container; unset fields take the workspace defaults, all capped by policy."""

    memory_mb: int | None = Field(default=None, ge=16)
    cpus: float | None = Field(default=None, gt=0)
    pids: int | None = Field(default=None, ge=8)


class MountSpec(WireModel):
    """An extra bind mount; the source must resolve inside the workspace (DESIGN §5)."""

    source: str
    target: str
    read_only: bool = True


class PortSpec(WireModel):
    """A published port; only loopback host addresses are allowed."""

    container_port: int = Field(ge=1, le=65535)
    host_port: int | None = Field(default=None, ge=1, le=65535)
    host_ip: str = "127.0.0.1"
    protocol: Literal["tcp", "udp"] = "tcp"


class Task(WireModel):
    id: str
    title: str
    state: TaskState
    reason: str | None = None
    parent_id: str | None = None
    image: str
    container_id: str | None = None
    branch: str | None = None
    base_ref: str | None = None
    checkout_path: str | None = None
    created_at: datetime
    updated_at: datetime
    revision: int = 0
    resources: Resources
    network: str = "none"
    labels: dict[str, str] = Field(default_factory=dict)
    env_keys: list[str] = Field(default_factory=list)
    command: list[str] | None = None
    target: str | None = Field(default=None, description="Branch the task integrates into by default.")
    uncommitted: bool | None = Field(
        default=None, description="The workspace had uncommitted changes at create time (carried in or not)."
    )
    head: str | None = Field(default=None, description="Last task-branch commit synced into the user's repository.")
    integrated_commit: str | None = None
    integrated_head: str | None = Field(default=None, description="Task-branch head that was integrated.")


class CreateTaskParams(WireModel):
    title: Title
    image: str | None = Field(default=None, max_length=256)
    base_ref: str | None = Field(default=None, max_length=256)
    parent_id: TaskId | None = None
    resources: Resources | None = None
    network: str = Field(default="none", max_length=64)
    env: dict[EnvName, str] | None = None
    env_passthrough: list[EnvName] | None = Field(
        default=None, description="Names of the daemon's env vars to pass in; values never journaled."
    )
    labels: dict[LabelKey, str] | None = None
    mounts: list[MountSpec] | None = None
    ports: list[PortSpec] | None = None
    command: list[str] | None = Field(default=None, description="Main process; default keeps the task alive.")
    agent: str | None = None
    include_uncommitted: bool = Field(
        default=False, description="Carry the workspace's uncommitted changes (tracked and untracked) into the task."
    )
    options: dict[str, Any] | None = Field(
        default=None, description="Extra container options; each is checked by policy, unknown ones refused."
    )


IncludeKey = Literal["stats", "inspect", "top", "changes", "git"]


class TaskRef(WireModel):
    task_id: TaskId
    expected_revision: int | None = Field(default=None, description="Optimistic lock: -32013 if it moved on.")


class ListTasksParams(WireModel):
    states: list[TaskState] | None = None
    parent_id: TaskId | None = None


class ListTasksResult(WireModel):
    tasks: list[Task]


class GetTaskParams(TaskRef):
    include: list[IncludeKey] = Field(default_factory=list)


class StopTaskParams(TaskRef):
    timeout_s: int = Field(default=10, ge=0, le=3600)


class KillTaskParams(TaskRef):
    signal: Annotated[str, StringConstraints(pattern=r"^(SIG)?[A-Z0-9]{2,8}$|^[0-9]{1,2}$")] = "SIGKILL"


class RemoveTaskParams(TaskRef):
    force: bool = False
    delete_branch: bool = False


class RemoveTaskResult(WireModel):
    removed: bool = True


class InspectSummary(WireModel):
    status: str
    running: bool
    paused: bool
    oom_killed: bool
    exit_code: int | None = None
    pid: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    health: str | None = None
    user: str
    read_only_rootfs: bool
    cap_drop: list[str]
    cap_add: list[str]
    security_opt: list[str]
    network_mode: str
    memory_bytes: int
    memory_swap_bytes: int
    nano_cpus: int
    pids_limit: int | None
    init: bool | None


class Stats(WireModel):
    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    memory_percent: float
    pids: int
    net_rx_bytes: int
    net_tx_bytes: int
    block_read_bytes: int
    block_write_bytes: int


class TopResult(WireModel):
    titles: list[str]
    processes: list[list[str]]


class FileChange(WireModel):
    path: str
    kind: Literal["modified", "added", "deleted"]


class TaskStatus(WireModel):
    task: Task
    inspect: InspectSummary | None = None
    stats: Stats | None = None
    top: TopResult | None = None
    changes: list[FileChange] | None = None
    git: dict[str, Any] | None = None


class LogsParams(TaskRef):
    tail: int | None = Field(default=None, ge=0, le=100_000)
    since: datetime | None = None


class LogsResult(WireModel):
    text: str
