"""TaskService and Reconciler logic with a fake Docker adapter (real engine: tests/integration)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dockyard.protocol.task import (
    CreateTaskParams,
    RemoveTaskParams,
    Resources,
    StopTaskParams,
    Task,
    TaskRef,
    TaskState,
)
from dockyard.server.adapters.journal import Journal
from dockyard.server.errors import (
    ContainerGone,
    DockyardError,
    InvalidState,
    NotFound,
    PolicyRefused,
    RevisionConflict,
    TaskNotFound,
)
from dockyard.server.services.config import load_config
from dockyard.server.services.notifier import NullNotifier
from dockyard.server.services.reconcile import Reconciler, failure_reason
from dockyard.server.services.registry import TaskRegistry
from dockyard.server.services.tasks import TaskService, now


class FakeDocker:
    def __init__(self) -> None:
        self.containers: dict[str, dict[str, Any]] = {}
        self.volumes: set[str] = set()
        self.fail_start = False
        self.calls: list[str] = []

    def image_present(self, image: str) -> bool:
        return image != "missing:1"

    def create_volume(self, name: str, labels: dict[str, str]) -> None:
        self.volumes.add(name)

    def remove_volume(self, name: str) -> None:
        self.volumes.discard(name)

    def create_container(self, image: str, name: str, kwargs: dict[str, Any]) -> str:
        cid = f"id-{name}"
        self.containers[cid] = {"id": cid, "task": kwargs["labels"]["dockyard.task"], "state": "created"}
        return cid

    def remove_container(self, ref: str) -> None:
        self.containers = {k: v for k, v in self.containers.items() if ref not in (k, k[3:])}

    def start(self, cid: str) -> None:
        if self.fail_start:
            raise DockyardError("engine said no")
        self._set(cid, "running")

    def _set(self, cid: str, state: str) -> None:
        if cid not in self.containers:
            raise ContainerGone(cid)
        self.calls.append(f"{state}:{cid}")
        self.containers[cid]["state"] = state

    def stop(self, cid: str, timeout_s: int) -> None:
        self._set(cid, "exited")

    def pause(self, cid: str) -> None:
        self._set(cid, "paused")

    def unpause(self, cid: str) -> None:
        self._set(cid, "running")

    def task_containers(self, workspace: str) -> list[dict[str, Any]]:
        return list(self.containers.values())

    def inspect(self, cid: str) -> dict[str, Any]:
        return {"State": {"ExitCode": 137, "OOMKilled": True, "Running": False}}


@pytest.fixture
def service(tmp_path: Path) -> tuple[TaskService, FakeDocker]:
    docker = FakeDocker()
    journal = Journal.for_workspace(tmp_path)
    registry = TaskRegistry()
    registry.load(journal.open())
    svc = TaskService(
        workspace=tmp_path,
        journal=journal,
        registry=registry,
        docker=docker,  # type: ignore[arg-type]
        config=load_config(tmp_path, "img:1"),
        notifier=NullNotifier(),
        host_env={},
    )
    return svc, docker


def test_create_runs_and_journals(service: tuple[TaskService, FakeDocker], tmp_path: Path) -> None:
    svc, _ = service
    task = svc.create(CreateTaskParams(title="hello"))
    assert task.state is TaskState.RUNNING and task.revision == 1 and task.container_id
    replay = Journal.for_workspace(tmp_path).open()
    assert [r.data["state"] for r in replay.records if r.kind == "task"] == ["creating", "running"]


def test_failed_create_leaves_nothing(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    docker.fail_start = True
    with pytest.raises(DockyardError, match="engine said no"):
        svc.create(CreateTaskParams(title="x"))
    assert docker.containers == {} and docker.volumes == set()
    (task,) = svc.registry.all()
    assert task.state is TaskState.REMOVED and "create failed" in (task.reason or "")


def test_policy_refusal_journals_nothing(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    with pytest.raises(PolicyRefused):
        svc.create(CreateTaskParams(title="x", options={"privileged": True}))
    assert svc.registry.all() == [] and docker.containers == {}


def test_missing_image_is_not_found(service: tuple[TaskService, FakeDocker]) -> None:
    with pytest.raises(NotFound, match="dockyard image build"):
        service[0].create(CreateTaskParams(title="x", image="missing:1"))


def test_illegal_operation_names_state_and_operation(service: tuple[TaskService, FakeDocker]) -> None:
    svc, _ = service
    task = svc.create(CreateTaskParams(title="x"))
    with pytest.raises(InvalidState) as info:
        svc.resume(TaskRef(task_id=task.id))
    assert info.value.data == {"taskId": task.id, "state": "running", "operation": "resume"}


def test_revision_conflict(service: tuple[TaskService, FakeDocker]) -> None:
    svc, _ = service
    task = svc.create(CreateTaskParams(title="x"))
    with pytest.raises(RevisionConflict):
        svc.pause(TaskRef(task_id=task.id, expected_revision=task.revision - 1))
    assert svc.pause(TaskRef(task_id=task.id, expected_revision=task.revision)).state is TaskState.PAUSED


def test_remove_running_needs_force(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    task = svc.create(CreateTaskParams(title="x"))
    with pytest.raises(InvalidState):
        svc.remove(RemoveTaskParams(task_id=task.id))
    svc.remove(RemoveTaskParams(task_id=task.id, force=True))
    assert docker.containers == {} and docker.volumes == set()
    with pytest.raises(TaskNotFound):
        svc.registry.get(task.id)


def test_container_gone_marks_lost(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    task = svc.create(CreateTaskParams(title="x"))
    docker.containers.clear()
    with pytest.raises(ContainerGone):
        svc.stop(StopTaskParams(task_id=task.id))
    assert svc.registry.get(task.id).state is TaskState.LOST


def test_reconcile_adopts_repairs_and_removes_orphans(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    alive = svc.create(CreateTaskParams(title="alive"))
    died = svc.create(CreateTaskParams(title="died"))
    vanished = svc.create(CreateTaskParams(title="vanished"))
    docker.containers[died.container_id or ""]["state"] = "exited"
    del docker.containers[vanished.container_id or ""]
    docker.containers["id-orphan"] = {"id": "id-orphan", "task": "t-000000", "state": "running"}
    actions = Reconciler(svc).reconcile()
    assert svc.registry.get(alive.id).state is TaskState.RUNNING
    assert svc.registry.get(died.id).state is TaskState.FAILED and svc.registry.get(died.id).reason == "oom"
    assert svc.registry.get(vanished.id).state is TaskState.LOST
    assert "id-orphan" not in docker.containers and len(actions) == 3


def test_reconcile_interrupted_create(service: tuple[TaskService, FakeDocker]) -> None:
    svc, docker = service
    docker.fail_start = True
    task = svc.create.__self__  # keep mypy quiet about the bound method below
    assert task is svc
    # simulate a crash right after the creating record: journal it by hand, leave a created container behind

    stamp = now()
    half = Task(
        id="t-abcdef",
        title="half",
        state=TaskState.CREATING,
        image="img:1",
        created_at=stamp,
        updated_at=stamp,
        resources=Resources(),
    )
    svc.commit(half)
    docker.containers["id-dockyard-t-abcdef"] = {"id": "id-dockyard-t-abcdef", "task": "t-abcdef", "state": "created"}
    Reconciler(svc).reconcile()
    assert docker.containers == {}
    assert svc.registry.find("t-abcdef").state is TaskState.REMOVED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "oom", "reason"),
    [(137, True, "oom"), (137, None, "oom"), (137, False, "killed(137)"), (0, True, "oom"), (3, False, "exited(3)")],
)
def test_failure_reason(code: int, oom: bool | None, reason: str) -> None:
    assert failure_reason(code, oom) == reason
