"""Fixtures for tests against a real engine and a real daemon over stdio.

Every test gets its own workspace (``tmp_path``), so the containers and volumes it causes carry a
``dockyard.workspace`` label unique to it; the ``workspace`` finalizer removes all of them, whatever the
test did. Without an engine the session fixture ``engine`` raises, so every test here errors (never skips).

Test modules use the helper types only in annotations (``if TYPE_CHECKING: from conftest import Dock``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from dockyard.protocol import methods as m
from dockyard.server.adapters import docker_images
from dockyard.server.cli.rpc import DaemonClient, RpcError
from dockyard.server.images import build

TESTBOX = build.test_tag()  # busybox, tiny: for tests that only need a process
KEEP_ALIVE = ["sh", "-c", "echo started; exec sleep 100000"]
WORKSPACE_LABEL = "dockyard.workspace"
ALL_STATES = ["creating", "running", "paused", "stopped", "failed", "removed", "lost", "integrated", "conflicted"]


def labelled(engine: docker.DockerClient, workspace: Path) -> tuple[list[str], list[str]]:
    """Names of the containers (any state) and volumes carrying ``dockyard.workspace=<workspace>``.

    Low-level listing: no per-container inspect that could race with a removal.
    """
    label = f"{WORKSPACE_LABEL}={workspace}"
    containers = [c["Names"][0].lstrip("/") for c in engine.api.containers(all=True, filters={"label": label})]
    volumes = [v["Name"] for v in engine.api.volumes(filters={"label": label}).get("Volumes") or []]
    return containers, volumes


def journal_task_ids(workspace: Path) -> set[str]:
    """Every task id the workspace's journal mentions (read leniently: it may be damaged on purpose)."""
    ids: set[str] = set()
    path = workspace / ".dockyard" / "state" / "journal.jsonl"
    with contextlib.suppress(OSError):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                data = json.loads(line).get("data") or {}
                ids.update(str(data[k]) for k in ("id", "taskId") if k in data)
    return ids


def purge(engine: docker.DockerClient, workspace: Path) -> None:
    """Remove every container and volume of ``workspace`` (containers first: they hold the volumes).

    By label, and by name for every task in its journal: a volume Docker re-created on its own (no labels)
    must not outlive the test either.
    """
    ids = journal_task_ids(workspace)
    containers, _ = labelled(engine, workspace)
    for name in {*containers, *(f"dockyard-{i}" for i in ids)}:
        with contextlib.suppress(docker.errors.NotFound):
            engine.api.remove_container(name, force=True, v=True)
    _, volumes = labelled(engine, workspace)
    names = {*volumes, *(f"dockyard-{i}-{kind}" for i in ids for kind in ("workspace", "home"))}
    for name in names:
        with contextlib.suppress(docker.errors.NotFound):
            engine.api.remove_volume(name, force=True)


@dataclass
class Dock:
    """One daemon on one workspace, plus direct engine access for the checks behind its back."""

    client: DaemonClient
    workspace: Path
    engine: docker.DockerClient

    # --- requests ------------------------------------------------------------------------------------
    def call(self, method: str, params: Any, timeout: float = 120) -> Any:
        return self.client.request(method, params, timeout)

    def error(self, method: str, params: Any, timeout: float = 120) -> RpcError:
        """The RpcError ``method`` answers with (AssertionError if it succeeds)."""
        try:
            result = self.client.request(method, params, timeout)
        except RpcError as exc:
            return exc
        raise AssertionError(f"{method} succeeded but should have failed: {result!r}")

    def create(
        self, image: str | None = TESTBOX, command: list[str] | None = KEEP_ALIVE, **params: Any
    ) -> dict[str, Any]:
        """createTask; ``image=None`` / ``command=None`` leave the field out (the daemon's / image's default)."""
        body: dict[str, Any] = {"title": params.pop("title", "integration")}
        if image is not None:
            body["image"] = image
        if command is not None:
            body["command"] = command
        task: dict[str, Any] = self.call(m.CREATE_TASK, {**body, **params})
        return task

    def exec(self, task_id: str, command: list[str] | str, **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(m.EXEC, {"taskId": task_id, "command": command, **params})
        return result

    def sh(self, task_id: str, script: str, **params: Any) -> str:
        """stdout of ``script``, which must exit 0."""
        result = self.exec(task_id, script, **params)
        assert result["exitCode"] == 0, f"{script!r} exited {result['exitCode']}: {result['stderr']!r}"
        return str(result["stdout"])

    def get(self, task_id: str, include: list[str] | None = None) -> dict[str, Any]:
        status: dict[str, Any] = self.call(m.GET_TASK, {"taskId": task_id, "include": include or []})
        return status

    def all_tasks(self) -> list[dict[str, Any]]:
        """Every task the daemon knows, removed ones included."""
        tasks: list[dict[str, Any]] = self.call(m.LIST_TASKS, {"states": ALL_STATES})["tasks"]
        return tasks

    # --- notifications -------------------------------------------------------------------------------
    def mark(self) -> int:
        """Index into the notification list, for waiting on what happens after now."""
        return len(self.client.notifications)

    def notes(self, method: str, start: int = 0) -> list[dict[str, Any]]:
        return [n["params"] for n in list(self.client.notifications)[start:] if n["method"] == method]

    def changes_of(self, task_id: str, start: int = 0) -> list[dict[str, Any]]:
        """The task objects of every taskChanged for ``task_id``, in arrival order."""
        return [p["task"] for p in self.notes(m.TASK_CHANGED, start) if p["task"]["id"] == task_id]

    def wait_state(self, task_id: str, state: str, timeout: float = 30, start: int = 0) -> dict[str, Any]:
        """The task from the first taskChanged (from ``start``) that puts ``task_id`` in ``state``."""
        params = self.client.wait_for(
            m.TASK_CHANGED,
            lambda p: p["task"]["id"] == task_id and p["task"]["state"] == state,
            timeout=timeout,
            start=start,
        )
        task: dict[str, Any] = params["task"]
        return task

    # --- the engine, behind the daemon's back ----------------------------------------------------------
    def container(self, task_id: str) -> Any:
        return self.engine.containers.get(f"dockyard-{task_id}")

    def inspect(self, task_id: str) -> dict[str, Any]:
        attrs: dict[str, Any] = self.engine.api.inspect_container(f"dockyard-{task_id}")
        return attrs

    def leftovers(self) -> tuple[list[str], list[str]]:
        """Names of the containers and volumes labelled with this workspace."""
        return labelled(self.engine, self.workspace)


@pytest.fixture(scope="session")
def engine() -> Iterator[docker.DockerClient]:
    """The real engine (DockerUnavailable, i.e. an error, without one) with both test images present."""
    client = docker_images.connect()
    build.ensure_test_image(client, print)
    build.ensure_sandbox_image(client, print)
    yield client
    client.close()


@pytest.fixture
def workspace(tmp_path: Path, engine: docker.DockerClient) -> Iterator[Path]:
    """A fresh workspace; afterwards nothing labelled with it is left in the engine."""
    ws = tmp_path / "ws"
    ws.mkdir()
    ws = ws.resolve()
    yield ws
    purge(engine, ws)


Spawn = Callable[..., DaemonClient]


@pytest.fixture
def spawn(workspace: Path) -> Iterator[Spawn]:
    """``spawn(env=..., ws=..., start=True)``: another daemon process (closed, or killed, at the end)."""
    clients: list[DaemonClient] = []

    def make(*, env: dict[str, str] | None = None, ws: Path | None = None, start: bool = True) -> DaemonClient:
        client = DaemonClient(ws or workspace, env=env)
        clients.append(client)
        if start:
            client.start()
        return client

    yield make
    for client in reversed(clients):
        stop(client)


def stop(client: DaemonClient) -> None:
    """Close a daemon (kill it if it will not go), and print what it logged: pytest shows it on failure."""
    client.close(timeout=15)
    if client.proc is not None and client.proc.poll() is None:
        client.proc.kill()
        client.proc.wait()
    for note in list(client.notifications):
        if note["method"] == "window/logMessage":
            print(f"daemon {client.proc.pid if client.proc else '?'}: {note['params'].get('message')}")


@pytest.fixture
def daemon(spawn: Spawn) -> DaemonClient:
    """A started daemon on ``workspace``, speaking over stdio."""
    return spawn()


@pytest.fixture
def dock(daemon: DaemonClient, workspace: Path, engine: docker.DockerClient) -> Dock:
    return Dock(daemon, workspace, engine)


@pytest.fixture
def make_dock(spawn: Spawn, workspace: Path, engine: docker.DockerClient) -> Callable[..., Dock]:
    """``make_dock(env=...)``: a Dock on a daemon started now, e.g. after the test wrote a config.toml."""

    def make(*, env: dict[str, str] | None = None) -> Dock:
        return Dock(spawn(env=env), workspace, engine)

    return make


@pytest.fixture(scope="module")
def module_dock(tmp_path_factory: pytest.TempPathFactory, engine: docker.DockerClient) -> Iterator[Dock]:
    """One workspace and daemon for a module's read-only checks of one container (cleaned up the same way)."""
    ws = tmp_path_factory.mktemp("module-ws").resolve()
    client = DaemonClient(ws).start()
    try:
        yield Dock(client, ws, engine)
    finally:
        stop(client)
        purge(engine, ws)


# --- git layer (issue 3): real repositories, sandbox image, task checkouts in a tmp data dir -----------------

SANDBOX = "dockyard/sandbox:0.1.0"  # has git; the testbox (busybox) does not
USER_NAME, USER_EMAIL = "Ada Lovelace", "ada@example.test"
TASK_UID = 1000  # the workspace is root's here, so tasks run as the unprivileged default uid
# The tests' own git: hermetic (no global/system config) and read-only where git allows it, so a
# `git status` of ours never refreshes the index we compare byte for byte.
HOST_GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(repo: Path, *args: str, check: bool = True) -> str:
    """stdout of ``git -C repo args`` (AssertionError with stderr when it fails and ``check``)."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=HOST_GIT_ENV, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} in {repo} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc.stdout.decode()


def init_repo(path: Path, content: str = "line one\nline two\nline three\n") -> str:
    """A fresh ``main`` repository with the user's identity and one commit of ``a.txt``; returns its sha."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", USER_NAME)
    git(path, "config", "user.email", USER_EMAIL)
    (path / "a.txt").write_text(content)
    git(path, "add", "a.txt")
    git(path, "commit", "-q", "-m", "initial")
    return git(path, "rev-parse", "HEAD").strip()


def hash_files(root: Path, skip: tuple[str, ...] = (".git", ".dockyard")) -> dict[str, str]:
    """sha256 of every file under ``root`` (symlinks by target, never followed), except top-level ``skip``;
    plus ``.git/index`` and ``.git/HEAD`` when ``.git`` is skipped."""
    out: dict[str, str] = {}
    for directory, dirs, files in os.walk(root):
        rel_dir = Path(directory).relative_to(root)
        if rel_dir == Path("."):
            dirs[:] = [d for d in dirs if d not in skip]
        for name in files + [d for d in dirs if (Path(directory) / d).is_symlink()]:
            path = Path(directory) / name
            rel = str(rel_dir / name)
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    if ".git" in skip:
        for name in ("index", "HEAD"):
            path = root / ".git" / name
            if path.exists():
                out[f".git/{name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def repo_snapshot(repo: Path) -> dict[str, Any]:
    """Everything an integration must not change when it refuses: refs, HEAD, index, worktree, merge state."""
    return {
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "head": (repo / ".git" / "HEAD").read_text(),
        "status": git(repo, "status", "--porcelain", "--untracked-files=all", "--", ".", ":(exclude).dockyard"),
        "files": hash_files(repo),
        "merge_state": sorted(
            name
            for name in ("MERGE_HEAD", "MERGE_MSG", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")
            if (repo / ".git" / name).exists()
        ),
    }


@dataclass
class GitDock(Dock):
    """A Dock on a git workspace whose task checkouts land in ``data_dir``."""

    data_dir: Path = Path()

    def task(self, title: str = "git task", **params: Any) -> dict[str, Any]:
        """createTask on the sandbox image (its default command keeps the task alive)."""
        return self.create(image=SANDBOX, command=None, title=title, **params)

    def commit(self, task_id: str, path: str, content: str, message: str) -> None:
        """Write ``path`` in /workspace and commit it inside the container, as the task user."""
        script = 'mkdir -p "$(dirname "$1")" && printf %s "$2" > "$1" && git add -- "$1" && git commit -q -m "$3"'
        result = self.exec(task_id, ["sh", "-c", script, "commit", path, content, message])
        assert result["exitCode"] == 0, f"commit of {path} exited {result['exitCode']}: {result['stderr']!r}"

    def diff(self, task_id: str, **params: Any) -> dict[str, Any]:
        diff: dict[str, Any] = self.call(m.DIFF_TASK, {"taskId": task_id, **params})
        return diff

    def integrate(self, task_id: str, strategy: str = "merge", **params: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(m.INTEGRATE_TASK, {"taskId": task_id, "strategy": strategy, **params})
        return result


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """DOCKYARD_DATA_DIR of the test's daemons: task checkouts go here, not into the real user data dir."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def git_workspace(workspace: Path) -> Path:
    """``workspace`` as a fresh git repository (``main``, one commit of a.txt)."""
    init_repo(workspace)
    return workspace


@pytest.fixture
def make_git_dock(
    git_workspace: Path, spawn: Spawn, engine: docker.DockerClient, data_dir: Path
) -> Callable[..., GitDock]:
    """``make_git_dock()``: one more daemon on the git workspace (same data dir), started now."""

    def make(*, env: dict[str, str] | None = None) -> GitDock:
        client = spawn(env={"DOCKYARD_DATA_DIR": str(data_dir), **(env or {})})
        return GitDock(client, git_workspace, engine, data_dir)

    return make


@pytest.fixture
def git_dock(make_git_dock: Callable[..., GitDock]) -> GitDock:
    return make_git_dock()
