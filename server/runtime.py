"""The composition root: one workspace's journal, registry, adapters and services, plus background watchers.

Two watchers keep every client current: the journal tail (changes made by other daemons on the same
workspace) and the Docker event stream (containers dying, OOM, removal behind our back). The event
watcher reconnects with backoff, so the daemon survives the engine going away and catches up after.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from pathlib import Path

from dockyard.server import __version__
from dockyard.server.adapters.docker import DockerAdapter
from dockyard.server.adapters.docker_engine import Engine
from dockyard.server.adapters.docker_exec import ExecAdapter
from dockyard.server.adapters.journal import Journal
from dockyard.server.adapters.journal_format import Record
from dockyard.server.errors import DockyardError
from dockyard.server.services.config import load_config
from dockyard.server.services.execs import ExecService
from dockyard.server.services.gitwork import GitWorkspace
from dockyard.server.services.integration import IntegrationService
from dockyard.server.services.memory import mirror
from dockyard.server.services.notifier import Notifier
from dockyard.server.services.reconcile import Reconciler
from dockyard.server.services.registry import TaskRegistry
from dockyard.server.services.sessions import SessionService
from dockyard.server.services.task_reads import TaskReads
from dockyard.server.services.tasks import TaskService

log = logging.getLogger(__name__)
SANDBOX_IMAGE = f"dockyard/sandbox:{__version__}"
TAIL_INTERVAL_S = 0.2
MIRROR_INTERVAL_S = 2.0
CLOSE_SYNC_WAIT_S = 20.0
COMPACT_AFTER_RECORDS = 5000
FIRST_PASS_WAIT_S = 10.0  # bounded: with the engine down, initialize must still answer


class Runtime:
    def __init__(self, workspace: Path, notifier: Notifier, engine: Engine | None = None) -> None:
        self.workspace = workspace.resolve()
        self.notifier = notifier
        self.engine = engine or Engine()
        self.journal = Journal.for_workspace(self.workspace)
        self.registry = TaskRegistry()
        replay = self.journal.open()  # JournalCorrupt propagates: never start on a damaged history
        for warning in replay.warnings:
            notifier.log(warning, "warning")
        self.registry.load(replay)
        self.journal.set_catch_up(self._on_foreign_record, self._on_foreign_reset)
        self.docker = DockerAdapter(self.engine)
        execs = ExecAdapter(self.engine)
        self.git = GitWorkspace(self.workspace, execs)
        self.tasks = TaskService(
            workspace=self.workspace,
            journal=self.journal,
            registry=self.registry,
            docker=self.docker,
            config=load_config(self.workspace, SANDBOX_IMAGE),
            notifier=notifier,
            git=self.git,
        )
        self.integration = IntegrationService(
            self.tasks, self.git, keep_memory=self.tasks.config.git.keep_memory_on_integrate
        )
        self.reads = TaskReads(self.registry, self.docker, self.git)
        self.execs = ExecService(self.tasks, execs, notifier, after=self._after_exec)
        self._git_work = ThreadPoolExecutor(max_workers=1, thread_name_prefix="git-sync")
        self._pending_sync: list[Future[None]] = []
        self.sessions = SessionService(self.tasks, execs, notifier)
        self.reconciler = Reconciler(self.tasks)
        self._stop = threading.Event()
        self._first_pass = threading.Event()
        self._threads: list[threading.Thread] = []
        if len(replay.records) > COMPACT_AFTER_RECORDS:
            self.journal.compact(self.registry.snapshot())

    # --- other daemons -----------------------------------------------------------------------------
    def _on_foreign_record(self, record: Record) -> None:
        task = self.registry.apply(record)
        if task is not None:
            self.notifier.task_changed(task)
            self.notifier.status(self.registry.counts())

    def _on_foreign_reset(self, replay: object) -> None:
        from dockyard.server.adapters.journal import ReplayResult

        assert isinstance(replay, ReplayResult)
        for task in self.registry.load(replay):
            self.notifier.task_changed(task)
        self.notifier.status(self.registry.counts())

    def _tail_loop(self) -> None:
        while not self._stop.wait(TAIL_INTERVAL_S):
            try:
                result = self.journal.tail()
            except DockyardError as exc:
                self.notifier.log(f"journal tail: {exc.message}", "error")
                continue
            if result.reset and result.replay is not None:
                self._on_foreign_reset(result.replay)
            for record in result.records:
                self._on_foreign_record(record)

    # --- git: sync after an exec moved HEAD, mirror memory files -------------------------------------
    def _after_exec(self, task_id: str) -> None:
        """Called after every exec: mirror now (local reads, cheap), sync off the request path (in order)."""
        if self.tasks.git is not None and not self._stop.is_set():
            self.mirror_memory(task_id)
            self._pending_sync = [f for f in self._pending_sync if not f.done()]
            self._pending_sync.append(self._git_work.submit(self._sync_and_mirror, task_id))

    def _sync_and_mirror(self, task_id: str) -> None:
        task = self.registry.find(task_id)
        if task is None or not task.branch or task.state.value not in ("running", "conflicted", "integrated"):
            return
        try:
            head = self.git.sync(task)
            if head is not None:
                self.tasks.update(task.id, head=head)
        except DockyardError as exc:
            self.notifier.log(f"sync of {task_id}: {exc.message}", "warning")
        self.mirror_memory(task_id)

    def mirror_memory(self, task_id: str) -> None:
        task = self.registry.find(task_id)
        if task is not None and task.checkout_path:
            mirror(Path(task.checkout_path), self.workspace / ".dockyard" / "tasks" / task_id)

    def _mirror_loop(self) -> None:
        while not self._stop.wait(MIRROR_INTERVAL_S):
            for task in self.registry.all():
                if task.checkout_path and task.state.value != "removed":
                    try:
                        self.mirror_memory(task.id)
                    except OSError as exc:
                        self.notifier.log(f"memory mirror of {task.id}: {exc}", "warning")

    # --- the engine ----------------------------------------------------------------------------------
    def reconcile(self) -> None:
        for action in self.reconciler.reconcile():
            self.notifier.log(f"reconcile: {action}", "info")

    def _events_loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                try:
                    self.reconcile()  # catch up on anything missed while not watching
                finally:
                    self._first_pass.set()
                backoff = 0.5
                events = self.docker.events(str(self.workspace))
                self._current_events = events
                for event in events:
                    if self._stop.is_set():
                        break
                    self.reconciler.on_event(event)
            except DockyardError as exc:
                self.notifier.log(f"Docker: {exc.message}", "warning")
            except Exception:  # never let the watcher die silently
                log.exception("event watcher")
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def start(self) -> None:
        """Start the watchers; returns once the first reconcile pass is over (or FIRST_PASS_WAIT_S passed).

        Waiting matters: the pass treats a task still ``creating`` as a create interrupted by a dead daemon
        and removes it, so it must not overlap a createTask sent right after ``initialize`` (it did: the
        task was removed mid-create and its container left behind).
        """
        for target, name in (
            (self._tail_loop, "journal-tail"),
            (self._events_loop, "docker-events"),
            (self._mirror_loop, "memory-mirror"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._first_pass.wait(FIRST_PASS_WAIT_S)

    def close(self) -> None:
        self._stop.set()
        # a short-lived daemon (the CLI's) must not drop the sync of its last exec: wait, but not forever
        futures_wait([f for f in self._pending_sync if not f.done()], timeout=CLOSE_SYNC_WAIT_S)
        self._git_work.shutdown(wait=False, cancel_futures=True)
        self.sessions.close_all()
        events = getattr(self, "_current_events", None)
        if events is not None:
            with contextlib.suppress(Exception):
                events.close()
        self.journal.close()
