"""Task lifecycle: every state change is checked against the table, journalled (fsynced), then announced.

Order of work for an operation: validate (state table, revision) -> announce intent in the journal ->
act on Docker -> journal the new state -> notify. A crash between any two steps leaves a journal that
``reconcile`` repairs on the next start (see docs/edge-cases.md).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockyard.protocol.task import (
    CreateTaskParams,
    KillTaskParams,
    ListTasksParams,
    RemoveTaskParams,
    StopTaskParams,
    Task,
    TaskRef,
    TaskState,
)
from dockyard.server.adapters.docker import DockerAdapter
from dockyard.server.adapters.journal import Journal
from dockyard.server.adapters.locks import FileLock
from dockyard.server.errors import (
    Busy,
    ContainerGone,
    DockyardError,
    GitError,
    InvalidState,
    NotFound,
    RevisionConflict,
)
from dockyard.server.services.config import WorkspaceConfig
from dockyard.server.services.gitwork import GitWorkspace
from dockyard.server.services.notifier import Notifier
from dockyard.server.services.policy import build_container_spec
from dockyard.server.services.registry import INTENT_RECORD, TASK_RECORD, TaskRegistry
from dockyard.server.services.statemachine import Event, IllegalTransition, next_state

# integrated/conflicted tasks keep their container: an agent fixes a conflict inside it
RUNS_PROCESSES = (TaskState.RUNNING, TaskState.CONFLICTED, TaskState.INTEGRATED)


def new_task_id() -> str:
    return "t-" + secrets.token_hex(3)


def container_name(task_id: str) -> str:
    return f"dockyard-{task_id}"


def volume_names(task_id: str) -> tuple[str, str]:
    """(workspace volume, home volume) of a task."""
    return f"dockyard-{task_id}-workspace", f"dockyard-{task_id}-home"


def now() -> datetime:
    return datetime.now(UTC)


CRASH_ENV = "DOCKYARD_TEST_CRASH_AT"  # test-only: tests/integration/test_recovery.py
STALL_S = 3.0


def _test_crash_point(step: str) -> None:
    """Test-only: die like ``kill -9`` at ``step`` (env ``step``) or stall there (env ``stall:step``)."""
    wanted = os.environ.get(CRASH_ENV)
    if wanted == step:
        os._exit(137)
    if wanted == f"stall:{step}":
        time.sleep(STALL_S)


class TaskService:
    def __init__(
        self,
        *,
        workspace: Path,
        journal: Journal,
        registry: TaskRegistry,
        docker: DockerAdapter,
        config: WorkspaceConfig,
        notifier: Notifier,
        host_env: Mapping[str, str] | None = None,
        git: GitWorkspace | None = None,
    ) -> None:
        self.workspace = workspace
        self.journal = journal
        self.registry = registry
        self.docker = docker
        self.config = config
        self.notifier = notifier
        self.host_env = dict(os.environ if host_env is None else host_env)
        self.git = git if git is not None and git.repo is not None else None

    # --- journal + notify ------------------------------------------------------------------------
    def commit(self, task: Task) -> Task:
        """Journal ``task`` (fsynced before we return) and tell every client."""
        self.journal.append(TASK_RECORD, task.to_wire())
        self.registry.put(task)
        self.notifier.task_changed(task)
        self.notifier.status(self.registry.counts())
        return task

    def _announce(self, task_id: str, op: str) -> None:
        self.journal.append(INTENT_RECORD, {"taskId": task_id, "op": op})
        self.registry.apply_intent(task_id, op)

    def transition(self, task_id: str, event: Event, operation: str, **changes: Any) -> Task:
        """Move a task along the table under the journal lock (so concurrent daemons serialise)."""
        with self.journal.locked():
            task = self.registry.get(task_id)
            return self.commit(self._advanced(task, event, operation, **changes))

    def _advanced(self, task: Task, event: Event, operation: str, **changes: Any) -> Task:
        try:
            state = next_state(task.state, event)
        except IllegalTransition:
            raise InvalidState(task.id, task.state.value, operation) from None
        update = {"state": state, "revision": task.revision + 1, "updated_at": now(), "reason": None, **changes}
        return task.model_copy(update=update)

    def _checked(self, ref: TaskRef, event: Event, operation: str) -> Task:
        """The task, if ``event`` is legal now and the client's expected revision still holds."""
        task = self.registry.get(ref.task_id)
        if ref.expected_revision is not None and ref.expected_revision != task.revision:
            raise RevisionConflict(
                f"task {task.id} is at revision {task.revision}, not {ref.expected_revision}",
                {"taskId": task.id, "revision": task.revision, "expected": ref.expected_revision},
            )
        self._advanced(task, event, operation)
        return task

    # --- create ------------------------------------------------------------------------------------
    def create(self, params: CreateTaskParams) -> Task:
        task_id = new_task_id()
        work_vol, home_vol = volume_names(task_id)
        bind = self.git.checkout_path(task_id) if self.git else None
        uid, gid = self.git.task_user() if self.git else (1000, 1000)
        spec = build_container_spec(
            params,
            task_id=task_id,
            workspace=self.workspace,
            config=self.config,
            volume_name=work_vol,
            home_volume=home_vol,
            workspace_bind=bind,
            user=f"{uid}:{gid}",
            default_command=None,
            host_env=self.host_env,
        )  # raises PolicyRefused before anything exists
        if not self.docker.image_present(spec.image):
            raise NotFound(
                f"image {spec.image!r} is not present; build it with `dockyard image build`", {"image": spec.image}
            )
        if params.include_uncommitted and self.git is None:
            raise GitError("includeUncommitted needs a git workspace", {"field": "includeUncommitted"})
        stamp = now()
        task = Task(
            id=task_id,
            title=params.title,
            state=TaskState.CREATING,
            parent_id=params.parent_id,
            image=spec.image,
            base_ref=params.base_ref,
            created_at=stamp,
            updated_at=stamp,
            resources=spec.resources,
            network=spec.network,
            labels=spec.labels,
            env_keys=spec.env_keys,
            command=params.command,
        )
        with self._create_lock(task_id):  # reconcile (of any daemon) leaves a create in flight alone
            task = self._with_branch(task, params)
            self.commit(task)
            _test_crash_point("after_journal_creating")
            try:
                container_id = self._materialise(task_id, spec.image, spec.kwargs, spec.labels)
            except DockyardError as exc:
                self._undo_create(task_id, str(exc))
                raise
            created = self.transition(task_id, Event.CREATED, "create", container_id=container_id)
        self._post_create(created)
        return created

    def _post_create(self, task: Task) -> None:
        """The workspace's post-create hook, inside the container; a failure is reported, the task stays."""
        outcome = self.git.run_hook(task, "post-create") if self.git is not None else None
        if outcome is not None and outcome[0] != 0:
            self.notifier.log(f"{task.id}: post-create hook exited {outcome[0]}: {outcome[1][-1000:]}", "warning")

    def _with_branch(self, task: Task, params: CreateTaskParams) -> Task:
        """A git workspace gives the task its branch and private checkout (before anything is journalled)."""
        if self.git is None:
            return task
        parent = self.registry.get(params.parent_id) if params.parent_id else None
        if parent is not None and parent.branch and parent.container_id and parent.state is TaskState.RUNNING:
            self.git.sync(parent)  # a subtask starts from its parent's latest commits
        prepared = self.git.prepare(task.id, task.title, params.base_ref, parent, params.include_uncommitted)
        return task.model_copy(
            update={
                "branch": prepared.branch,
                "base_ref": prepared.base_ref,
                "target": prepared.target,
                "checkout_path": str(prepared.checkout),
                "uncommitted": prepared.uncommitted,
            }
        )

    def _create_lock_file(self, task_id: str) -> FileLock:
        return FileLock(self.journal.path.parent / f"create-{task_id}.lock", 0, what="create lock")

    @contextlib.contextmanager
    def _create_lock(self, task_id: str) -> Iterator[None]:
        """Held for the whole create; the kernel drops it when the creating daemon dies (kill -9 included)."""
        lock = self._create_lock_file(task_id)
        lock.acquire()
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.path.unlink()
            lock.release()

    def create_in_flight(self, task_id: str) -> bool:
        """True while a live daemon (this one or another) is still creating ``task_id``."""
        try:
            with self._create_lock(task_id):
                return False
        except Busy:
            return True

    def _materialise(self, task_id: str, image: str, kwargs: dict[str, Any], labels: dict[str, str]) -> str:
        for volume in volume_names(task_id):
            if volume in kwargs.get("volumes", {}):
                self.docker.create_volume(volume, labels)
        container_id = self.docker.create_container(image, container_name(task_id), kwargs)
        _test_crash_point("after_container_create")
        self.docker.start(container_id)
        _test_crash_point("after_container_start")
        return container_id

    def _undo_create(self, task_id: str, why: str) -> None:
        """Nothing half-created is left: container, volumes, checkout and branch; the task stays in history."""
        self.destroy_resources(task_id, None)
        task = self.registry.find(task_id)
        if self.git is not None and task is not None:
            self.git.discard(task_id, task.branch)
        self.transition(task_id, Event.REMOVE, "create", reason=f"create failed: {why}")

    def destroy_resources(self, task_id: str, container_id: str | None) -> None:
        """Remove a task's container (by id, else by name) and its volumes; idempotent."""
        self.docker.remove_container(container_id or container_name(task_id))
        for volume in volume_names(task_id):
            self.docker.remove_volume(volume)

    # --- lifecycle ---------------------------------------------------------------------------------
    def _act(self, ref: TaskRef, event: Event, operation: str, action: Callable[[str], None]) -> Task:
        task = self._checked(ref, event, operation)
        if task.container_id is None:
            raise InvalidState(task.id, f"{task.state.value} without a container", operation)
        self._announce(task.id, operation)
        try:
            action(task.container_id)
        except ContainerGone:
            self.transition(task.id, Event.LOSE, operation, reason="container removed outside Dockyard")
            raise
        return self.transition(task.id, event, operation)

    def start(self, ref: TaskRef) -> Task:
        return self._act(ref, Event.START, "start", self.docker.start)

    def stop(self, params: StopTaskParams) -> Task:
        task = self._checked(params, Event.STOP, "stop")
        if self.config.git.autocommit_on_stop:
            self.save_work(task, "stop")
        return self._act(params, Event.STOP, "stop", lambda cid: self.docker.stop(cid, params.timeout_s))

    def save_work(self, task: Task, why: str) -> None:
        """Auto-commit point: commit pending work inside the container, then sync the branch out."""
        if self.git is None or task.state not in RUNS_PROCESSES or not task.branch:
            return
        self.git.autocommit(task, why)
        head = self.git.sync(task)
        if head is not None:
            self.update(task.id, head=head)

    def update(self, task_id: str, **changes: Any) -> Task:
        """A change that is not a state transition (e.g. the synced head): journalled and announced."""
        with self.journal.locked():
            task = self.registry.get(task_id)
            return self.commit(task.model_copy(update={"revision": task.revision + 1, "updated_at": now(), **changes}))

    def restart(self, params: StopTaskParams) -> Task:
        return self._act(params, Event.RESTART, "restart", lambda cid: self.docker.restart(cid, params.timeout_s))

    def kill(self, params: KillTaskParams) -> Task:
        return self._act(params, Event.KILL, "kill", lambda cid: self.docker.kill(cid, params.signal))

    def pause(self, ref: TaskRef) -> Task:
        return self._act(ref, Event.PAUSE, "pause", self.docker.pause)

    def resume(self, ref: TaskRef) -> Task:
        return self._act(ref, Event.RESUME, "resume", self.docker.unpause)

    def remove(self, params: RemoveTaskParams) -> None:
        task = self._checked(params, Event.REMOVE, "remove")
        if task.state in (TaskState.RUNNING, TaskState.PAUSED) and not params.force:
            raise InvalidState(task.id, task.state.value, "remove (stop it first, or pass force)")
        if self.git is not None:
            self._check_branch_deletable(task, params)
            self._save_before_remove(task)
        self._announce(task.id, "remove")
        self.destroy_resources(task.id, task.container_id)
        if self.git is not None:
            self.git.remove(task, params.delete_branch)
        self.transition(task.id, Event.REMOVE, "remove")

    def _save_before_remove(self, task: Task) -> None:
        """The checkout is about to go: bring its last commits (and pending work) to the user's branch first.
        A failure is reported, not fatal: the container may be unusable, and ``force`` was asked for."""
        try:
            self.save_work(task, "remove")
        except DockyardError as exc:
            self.notifier.log(f"{task.id}: could not save work before removal: {exc.message}", "warning")

    def _check_branch_deletable(self, task: Task, params: RemoveTaskParams) -> None:
        """deleteBranch without force only when no commit would be lost: nothing since the last integration,
        everything reachable from the target, or nothing but the memory-template commit."""
        if not params.delete_branch or params.force or not task.branch or self.git is None:
            return
        repo = self.git.require("remove a task")
        if not repo.branch_exists(task.branch):
            return
        head = repo.resolve(f"refs/heads/{task.branch}")
        target = task.target or task.base_ref
        if head == task.integrated_head or (target and repo.is_ancestor(head, repo.resolve(target))):
            return
        if task.base_ref and len(repo.commits_between(task.base_ref, head)) <= 1:
            return
        raise InvalidState(task.id, f"{task.state.value} with unintegrated commits", "delete the branch of")

    def list(self, params: ListTasksParams) -> list[Task]:
        tasks = [t for t in self.registry.all() if t.state is not TaskState.REMOVED or params.states]
        if params.states:
            tasks = [t for t in tasks if t.state in params.states]
        if params.parent_id:
            tasks = [t for t in tasks if t.parent_id == params.parent_id]
        return tasks

    def running_container(self, task_id: str, operation: str) -> tuple[Task, str]:
        """A task that can run processes now, and its container id."""
        task = self.registry.get(task_id)
        if task.state not in RUNS_PROCESSES or task.container_id is None:
            raise InvalidState(task.id, task.state.value, operation)
        return task, task.container_id
