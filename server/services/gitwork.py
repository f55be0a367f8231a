"""A branch and a private checkout per task, and the inert path by which task commits come back.

Host-side git runs only in the user's repository, or in a fresh clone before its container exists.
After that the checkout belongs to the container: commits are made inside it (as the task user) and
leave it as a bundle streamed over an exec's stdout, verified and fetched on the host (DESIGN §2).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import platformdirs

from dockyard.protocol.task import Task
from dockyard.server.adapters.docker_exec import ExecAdapter
from dockyard.server.adapters.git import (
    Submodule,
    UserRepo,
    add_and_commit,
    branch_submodules,
    clone_checkout,
    fetch_bundle_into,
    is_repository,
    populate_submodules,
    slugify,
    submodules_at,
    validate_ref,
)
from dockyard.server.errors import GitError
from dockyard.server.services.capture import capture
from dockyard.server.services.memory import MEMORY_DIR, write_templates

T = TypeVar("T")
# Deepest submodules first (reverse path order puts lib/deep before lib), so each parent records the new
# pointer; exit 3 = nothing to commit anywhere.
AUTOCOMMIT_SCRIPT = """
commit() { git add -A && { git diff --cached --quiet || git commit -q -m "$1" --trailer "Dockyard-Task: $2"; }; }
git submodule foreach --quiet --recursive 'echo "$displaypath"' | sort -r | while IFS= read -r p; do
  (cd "$p" && commit "$1" "$2") || exit 1
done || exit 1
git add -A
if git diff --cached --quiet; then exit 3; fi
git commit -q -m "$1" --trailer "Dockyard-Task: $2"
"""
BUNDLE_CAP_BYTES = 2 << 30
DEFAULT_TASK_UID = 1000


@dataclass(frozen=True)
class Prepared:
    branch: str
    base_ref: str
    target: str | None
    checkout: Path
    uncommitted: bool
    user: str


def data_dir() -> Path:
    return Path(os.environ.get("DOCKYARD_DATA_DIR") or platformdirs.user_data_dir("dockyard"))


class GitWorkspace:
    def __init__(self, workspace: Path, execs: ExecAdapter) -> None:
        self.workspace = workspace
        self.execs = execs
        self.repo = UserRepo(workspace) if is_repository(workspace) else None

    def require(self, operation: str) -> UserRepo:
        if self.repo is None:
            raise GitError(
                f"cannot {operation}: {self.workspace} is not a git repository", {"workspace": str(self.workspace)}
            )
        return self.repo

    def checkout_path(self, task_id: str) -> Path:
        repo = self.require("make a task checkout")
        key = hashlib.sha256(str(repo.common_dir.resolve()).encode()).hexdigest()[:12]
        return data_dir() / "checkouts" / f"{slugify(repo.root.name, 24)}-{key}" / task_id

    def task_user(self) -> tuple[int, int]:
        """The repository owner's uid/gid unless that is root; then an unprivileged uid (DESIGN §5)."""
        st = os.stat(self.workspace)
        return (st.st_uid, st.st_gid) if st.st_uid != 0 else (DEFAULT_TASK_UID, DEFAULT_TASK_UID)

    # --- create ------------------------------------------------------------------------------------
    def prepare(
        self, task_id: str, title: str, base_ref: str | None, parent: Task | None, include_uncommitted: bool
    ) -> Prepared:
        repo = self.require("create a task branch")
        start_ref = (
            validate_ref(base_ref, "baseRef") if base_ref else (parent.branch if parent and parent.branch else "HEAD")
        )
        start = repo.resolve(start_ref)
        target = parent.branch if parent and parent.branch else _branch_name(repo, base_ref)
        branch = f"dockyard/{slugify(title)}-{task_id}"
        uncommitted = repo.is_dirty(untracked=True)
        dest = self.checkout_path(task_id)
        with repo.ref_lock():
            repo.create_branch(branch, start)
        try:
            clone = clone_checkout(repo, dest, branch, start)
            populate_submodules(clone, repo.git_dir)
            branch_submodules(dest, submodules_at(repo.git_dir, start), branch, repo.author())
            if include_uncommitted and uncommitted:
                carry_uncommitted(repo, dest)
            write_templates(dest, task_id, title)
            add_and_commit(clone, [MEMORY_DIR], f"Task memory for {task_id}\n\nDockyard-Task: {task_id}", repo.author())
            uid, gid = self.task_user()
            _chown_tree(dest, uid, gid)
        except Exception:
            self.discard(task_id, branch)
            raise
        return Prepared(branch, start, target, dest, uncommitted, f"{uid}:{gid}")

    def discard(self, task_id: str, branch: str | None) -> None:
        """Undo :meth:`prepare`: the checkout and the (never used) branch."""
        shutil.rmtree(self.checkout_path(task_id), ignore_errors=True)
        if branch and self.repo is not None and self.repo.branch_exists(branch):
            with self.repo.ref_lock():
                self.repo.delete_branch(branch)

    # --- sync: container -> user's repository ------------------------------------------------------
    def sync(self, task: Task) -> str | None:
        """Bring the task branch into the user's repository if it moved; returns the new head or None."""
        repo = self.require("sync a task")
        if not task.branch or not task.container_id:
            return None
        ref = f"refs/heads/{task.branch}"
        probe = capture(self.execs, task.container_id, ["git", "rev-parse", "--verify", "-q", ref], env=_git_env())
        head = probe.stdout.decode().strip()
        if probe.exit_code != 0 or not head:
            raise GitError(f"task {task.id}: branch {task.branch} is missing in its checkout", {"stderr": probe.stderr})
        self._sync_submodules(repo, task)
        known = task.head or task.base_ref
        if head == known and repo.branch_exists(task.branch) and repo.is_ancestor(head, ref):
            return None
        argv = ["git", "bundle", "create", "-", ref] + ([f"^{known}"] if known else [])
        return self._fetch(repo, task, argv, ref)

    def _sync_submodules(self, repo: UserRepo, task: Task) -> None:
        """Each submodule's task branch (if the agent committed there) into the user's module clone."""
        ref = f"refs/heads/{task.branch}"
        for sub in submodules_at(repo.git_dir, task.base_ref or "HEAD"):
            probe = capture(
                self.execs,
                task.container_id or "",
                ["git", "-C", sub.path, "rev-parse", "--verify", "-q", ref],
                env=_git_env(),
            )
            head = probe.stdout.decode().strip()
            if probe.exit_code != 0 or not head or head == sub.commit:
                continue
            argv = ["git", "-C", sub.path, "bundle", "create", "-", ref, f"^{sub.commit}"]
            self._fetch_with(task, argv, functools.partial(_into_module, sub, ref, task.branch or ""))

    def _fetch(self, repo: UserRepo, task: Task, argv: list[str], ref: str) -> str:
        """Returns the task's head as fetched (recorded as ``Task.head``: the next bundle's known base)."""
        branch = task.branch or ""

        def into_repo(bundle: Path) -> str:
            incoming = repo.fetch_bundle(bundle, ref, branch)
            repo.advance_branch(branch, incoming, f"Merge {task.id}'s new commits with work integrated into {branch}")
            return incoming

        return self._fetch_with(task, argv, into_repo)

    def _fetch_with(self, task: Task, argv: list[str], fetch: Callable[[Path], T]) -> T:
        """Stream a bundle out of the container to a host-chosen file, then fetch it under the repo lock."""
        repo = self.require("sync a task")
        state = self.workspace / ".dockyard" / "state"
        state.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"bundle-{task.id}-", suffix=".bundle", dir=state)
        try:
            with os.fdopen(fd, "wb") as sink:
                result = capture(
                    self.execs, task.container_id or "", argv, env=_git_env(), sink=sink, max_bytes=BUNDLE_CAP_BYTES
                )
            if result.exit_code != 0:
                raise GitError(f"task {task.id}: git bundle failed in the container: {result.stderr.strip()[-500:]}")
            with repo.ref_lock():
                return fetch(Path(name))
        finally:
            Path(name).unlink(missing_ok=True)

    def autocommit(self, task: Task, why: str) -> bool:
        """Commit pending work inside the container (as the task user); True if something was committed."""
        if not task.container_id or not task.branch:
            return False
        script = AUTOCOMMIT_SCRIPT
        name, email = self.require("commit").author()
        result = capture(
            self.execs,
            task.container_id,
            ["/bin/sh", "-c", script, "autocommit", f"Dockyard: {why}", task.id],
            env=_git_env(name, email),
        )
        if result.exit_code not in (0, 3):
            output = (result.stdout.decode("utf-8", "replace") + result.stderr).strip()
            raise GitError(
                f"task {task.id}: auto-commit ({why}) failed: {output[-500:]}", {"exitCode": result.exit_code}
            )
        return result.exit_code == 0

    def run_hook(self, task: Task, hook: str) -> tuple[int, str] | None:
        """Run ``<workspace>/.dockyard/hooks/<hook>`` inside the task container (never on the host)."""
        path = self.workspace / ".dockyard" / "hooks" / hook
        if not path.is_file() or path.is_symlink() or not task.container_id:
            return None
        script = path.read_bytes()[: 1 << 20]
        env = {"DOCKYARD_TASK_ID": task.id, "DOCKYARD_BRANCH": task.branch or "", "DOCKYARD_TARGET": task.target or ""}
        result = capture(self.execs, task.container_id, ["/bin/sh", "-s", "--", task.id], env=env, stdin=script)
        return result.exit_code, (result.stdout.decode("utf-8", "replace") + result.stderr)[-8000:]

    def remove(self, task: Task, delete_branch: bool) -> None:
        shutil.rmtree(self.checkout_path(task.id), ignore_errors=True)  # rmtree never follows symlinks
        if delete_branch and task.branch and self.repo is not None and self.repo.branch_exists(task.branch):
            with self.repo.ref_lock():
                self.repo.delete_branch(task.branch)


def _into_module(sub: Submodule, ref: str, branch: str, bundle: Path) -> None:
    fetch_bundle_into(sub.gitdir, bundle, ref, branch)


def _branch_name(repo: UserRepo, base_ref: str | None) -> str | None:
    if base_ref is None:
        return repo.current_branch()
    return base_ref if repo.branch_exists(base_ref) else None


def _git_env(name: str = "Dockyard", email: str = "dockyard@localhost") -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
        "HOME": "/home/agent",
        "GIT_TERMINAL_PROMPT": "0",
    }


def carry_uncommitted(repo: UserRepo, dest: Path) -> None:
    """Tracked changes (as a binary patch) and untracked, non-ignored files; the user's checkout is only read."""
    patch = repo.run("--no-optional-locks", "diff", "HEAD", "--binary")
    if patch.strip():
        patch_file = dest / ".git" / "dockyard-carry.patch"
        patch_file.write_text(patch)
        UserRepo(dest).run("apply", "--whitespace=nowarn", str(patch_file))
        patch_file.unlink()
    for rel in repo.run("--no-optional-locks", "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if not rel or rel.startswith(".dockyard/"):
            continue
        source, target = repo.root / rel, dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    if os.geteuid() != 0:
        return
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.chown(os.path.join(directory, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)
