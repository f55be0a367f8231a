"""Make the journal and Docker agree: at start, after the engine comes back, and on every engine event.

Docker is the source of truth for containers: a task whose container vanished is ``lost``; a container
whose main process died moves its task to ``failed`` (``oom`` when it exited 137 or was OOM-killed);
a task caught mid-create is adopted when its container runs, otherwise cleaned up; a labelled container
that no live task owns is an orphan and is removed.
"""

from __future__ import annotations

import logging
from typing import Any

from dockyard.protocol.task import Task, TaskState
from dockyard.server.errors import ContainerGone
from dockyard.server.services.statemachine import Event
from dockyard.server.services.tasks import TaskService

log = logging.getLogger(__name__)
LIVE_CONTAINER = (TaskState.RUNNING, TaskState.PAUSED)
HAS_CONTAINER = (*LIVE_CONTAINER, TaskState.STOPPED, TaskState.FAILED)


def failure_reason(exit_code: int | None, oom_killed: bool | None) -> str:
    """``oom`` when Docker says so, or when the main process exited 137 and Docker cannot tell us more
    (container already gone); a SIGKILL that Docker did not attribute to memory is ``killed(137)``."""
    if oom_killed or (exit_code == 137 and oom_killed is None):
        return "oom"
    if exit_code == 137:
        return "killed(137)"
    return f"exited({exit_code})"


class Reconciler:
    def __init__(self, tasks: TaskService) -> None:
        self.tasks = tasks

    def reconcile(self) -> list[str]:
        """One full pass; returns what it did, for the log."""
        actions: list[str] = []
        containers = {c["task"]: c for c in self.tasks.docker.task_containers(str(self.tasks.workspace))}
        with self.tasks.journal.locked():
            for task in self.tasks.registry.all():
                if task.state is not TaskState.REMOVED:
                    actions += self._one(task, containers.pop(task.id, None))
        for task_id, orphan in containers.items():
            self.tasks.docker.remove_container(orphan["id"])
            actions.append(f"removed orphan container {orphan['id'][:12]} (task {task_id})")
        return actions

    def _one(self, task: Task, container: dict[str, Any] | None) -> list[str]:
        if task.state is TaskState.CREATING:
            if self.tasks.create_in_flight(task.id):
                return []  # not interrupted: a live daemon is creating it right now
            return self._interrupted_create(task, container)
        if container is None:
            if task.state is TaskState.LOST:
                return []
            self.tasks.transition(task.id, Event.LOSE, "reconcile", reason="container removed outside Dockyard")
            return [f"{task.id}: container gone -> lost"]
        state = container["state"]
        if task.state in LIVE_CONTAINER and state in ("exited", "dead"):
            info = self.tasks.docker.inspect(container["id"])["State"]
            reason = failure_reason(info.get("ExitCode"), bool(info.get("OOMKilled")))
            self.tasks.transition(task.id, Event.FAIL, "reconcile", reason=reason)
            return [f"{task.id}: container {state} -> failed ({reason})"]
        return []

    def _interrupted_create(self, task: Task, container: dict[str, Any] | None) -> list[str]:
        if container is not None and container["state"] == "running":
            self.tasks.transition(task.id, Event.CREATED, "reconcile", container_id=container["id"])
            return [f"{task.id}: adopted container {container['id'][:12]} left by an interrupted create"]
        self.tasks.destroy_resources(task.id, container["id"] if container else None)
        self.tasks.transition(task.id, Event.REMOVE, "reconcile", reason="create interrupted (daemon stopped)")
        return [f"{task.id}: create was interrupted -> cleaned up and removed"]

    def on_event(self, event: dict[str, Any]) -> None:
        """A Docker container event for one of our tasks."""
        action = str(event.get("Action") or event.get("status") or "")
        attrs = (event.get("Actor") or {}).get("Attributes") or {}
        task_id = attrs.get("dockyard.task")
        if not task_id or action not in ("die", "destroy"):
            return
        with self.tasks.journal.locked():  # catches up with other daemons first
            task = self.tasks.registry.find(task_id)
            if task is None or self.tasks.registry.intent(task_id):
                return  # not ours, or a lifecycle call of some daemon is acting on it
            if action == "destroy":  # `docker rm -f` sends die first: a task failed by it is lost all the same
                if task.state in HAS_CONTAINER:
                    self.tasks.transition(task_id, Event.LOSE, "watch", reason="container removed outside Dockyard")
                return
            if task.state not in LIVE_CONTAINER:
                return  # already handled
            code = int(attrs["exitCode"]) if str(attrs.get("exitCode", "")).lstrip("-").isdigit() else None
            try:
                state = self.tasks.docker.inspect(task.container_id or task_id)["State"]
            except ContainerGone:
                state = {}
            if state.get("Running"):
                return  # died and came back (a restart): nothing failed
            oom = state.get("OOMKilled") if state else None
            self.tasks.transition(task_id, Event.FAIL, "watch", reason=failure_reason(code, oom))
