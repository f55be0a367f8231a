"""Git layer on the wire: diff and integration of a task branch (DESIGN §1-§4, issue 3)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import WireModel
from .task import Task, TaskId

Strategy = Literal["merge", "squash", "rebase", "ff-only"]


class DiffTaskParams(WireModel):
    task_id: TaskId
    stat: bool = Field(default=False, description="Only the per-file counts, without the patch.")


class FileStat(WireModel):
    path: str
    insertions: int | None = Field(description="None for binary files.")
    deletions: int | None


class Diff(WireModel):
    task_id: str
    branch: str
    base: str = Field(description="Commit the task branch is compared against (its merge base with the target).")
    head: str
    target: str
    ahead: int
    behind: int
    files: list[FileStat]
    insertions: int
    deletions: int
    patch: str | None = None
    truncated: bool = False


class IntegrateTaskParams(WireModel):
    task_id: TaskId
    strategy: Strategy = "merge"
    target: str | None = Field(default=None, max_length=200, description="Branch; default: where the task started.")


class Integration(WireModel):
    task: Task
    strategy: Strategy
    target: str
    commit: str
    previous: str
    updated_worktree: bool = Field(description="True when the target was checked out and its files were updated.")
