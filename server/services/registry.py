"""In-memory view of every task, rebuilt from the journal and kept current by its records."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from dockyard.protocol.task import Task, TaskState
from dockyard.server.adapters.journal import ReplayResult
from dockyard.server.adapters.journal_format import Record
from dockyard.server.errors import TaskNotFound

TASK_RECORD = "task"  # data: the full Task on the wire (camelCase); values of env vars never included
INTENT_RECORD = "intent"  # data: {taskId, op}: a lifecycle call is about to act on the container
INTENT_TTL_S = 10.0  # after the operation finished; its engine events arrive within milliseconds


class TaskRegistry:
    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._intents: dict[str, tuple[str, float]] = {}
        self._lock = threading.RLock()

    def load(self, replay: ReplayResult) -> list[Task]:
        """Replace everything with the snapshot + records; returns the tasks whose content changed."""
        with self._lock:
            before = dict(self._tasks)
            self._tasks = {}
            state = replay.state or {}
            for raw in state.get("tasks", {}).values():
                task = Task.model_validate(raw)
                self._tasks[task.id] = task
            for record in replay.records:
                self.apply(record)
            return [t for tid, t in self._tasks.items() if before.get(tid) != t]

    def apply(self, record: Record) -> Task | None:
        """Apply one journal record; returns the task it changed, if any."""
        with self._lock:
            if record.kind == TASK_RECORD:
                task = Task.model_validate(record.data)
                self._tasks[task.id] = task
                self._refresh_intent(task.id)
                return task
            if record.kind == INTENT_RECORD:
                self.apply_intent(str(record.data["taskId"]), str(record.data["op"]))
            return None

    def apply_intent(self, task_id: str, op: str) -> None:
        with self._lock:
            self._intents[task_id] = (op, time.monotonic())

    def put(self, task: Task) -> None:
        with self._lock:
            self._tasks[task.id] = task
            self._refresh_intent(task.id)

    def _refresh_intent(self, task_id: str) -> None:
        """An operation just finished: its intent stays valid a little longer, for late engine events."""
        if task_id in self._intents:
            self._intents[task_id] = (self._intents[task_id][0], time.monotonic())

    def get(self, task_id: str) -> Task:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is None or task.state is TaskState.REMOVED:
            raise TaskNotFound(task_id)
        return task

    def find(self, task_id: str) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def intent(self, task_id: str) -> str | None:
        """The lifecycle operation some daemon announced for this task, if recent."""
        with self._lock:
            entry = self._intents.get(task_id)
        if entry is None or time.monotonic() - entry[1] > INTENT_TTL_S:
            return None
        return entry[0]

    def all(self) -> list[Task]:
        with self._lock:
            return sorted(self._tasks.values(), key=lambda t: (t.created_at, t.id))

    def counts(self) -> dict[str, int]:
        with self._lock:
            counted = Counter(t.state.value for t in self._tasks.values() if t.state is not TaskState.REMOVED)
        return {state.value: counted.get(state.value, 0) for state in TaskState if state is not TaskState.REMOVED}

    def snapshot(self) -> dict[str, Any]:
        """State for compaction: live tasks only (removed ones stay in history, not in the snapshot)."""
        with self._lock:
            return {"tasks": {t.id: t.to_wire() for t in self._tasks.values() if t.state is not TaskState.REMOVED}}
