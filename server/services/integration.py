"""diffTask and integrateTask: computed on objects in the user's repository, so no checkout is touched
unless the target is checked out and clean (then it is fast-forwarded so the files update on disk).

A conflict changes nothing: no ref moved, no file written, no MERGE_HEAD; the task becomes ``conflicted``
and the error lists the paths.
"""

from __future__ import annotations

from dockyard.protocol.git import Diff, DiffTaskParams, FileStat, IntegrateTaskParams, Integration, Strategy
from dockyard.protocol.task import Task
from dockyard.server.adapters.git import UserRepo, validate_ref
from dockyard.server.errors import EngineConflict, GitError, MergeConflict
from dockyard.server.services.gitwork import GitWorkspace
from dockyard.server.services.memory import MEMORY_DIR
from dockyard.server.services.statemachine import Event
from dockyard.server.services.tasks import RUNS_PROCESSES, TaskService

PATCH_CAP = 1 << 20


class IntegrationService:
    def __init__(self, tasks: TaskService, git: GitWorkspace, keep_memory: bool = False) -> None:
        self.tasks = tasks
        self.git = git
        self.keep_memory = keep_memory

    def _synced(self, task_id: str, operation: str) -> tuple[UserRepo, Task]:
        repo = self.git.require(operation)
        task = self.tasks.registry.get(task_id)
        if not task.branch:
            raise GitError(f"task {task_id} has no branch (created outside a git repository)", {"taskId": task_id})
        head = self._sync(task)
        if head is not None:
            task = self.tasks.update(task.id, head=head)
        return repo, task

    def _sync(self, task: Task) -> str | None:
        """Sync a task whose container can run git now; a stopped (paused, failed) one keeps the branch
        synced at its last auto-commit point (an exec into it would fail with 409 "not running")."""
        if not task.container_id or task.state not in RUNS_PROCESSES:
            return None
        try:
            return self.git.sync(task)
        except EngineConflict:  # e.g. integrated after a stop: the container exists but does not run
            return None

    def diff(self, params: DiffTaskParams) -> Diff:
        repo, task = self._synced(params.task_id, "diff a task")
        head = repo.resolve(f"refs/heads/{task.branch}")
        target = task.target or task.base_ref or head
        target_sha = repo.resolve(target)
        base = repo.merge_base(target_sha, head)
        ahead, behind = repo.ahead_behind(target_sha, head)
        files = _numstat(repo.run("diff", "--numstat", "-z", "--no-renames", base, head))
        patch = None if params.stat else repo.run("diff", "--no-color", "--no-ext-diff", base, head)
        truncated = patch is not None and len(patch) > PATCH_CAP
        return Diff(
            task_id=task.id,
            branch=task.branch or "",
            base=base,
            head=head,
            target=target,
            ahead=ahead,
            behind=behind,
            files=files,
            insertions=sum(f.insertions or 0 for f in files),
            deletions=sum(f.deletions or 0 for f in files),
            patch=patch[:PATCH_CAP] if patch else patch,
            truncated=truncated,
        )

    def integrate(self, params: IntegrateTaskParams) -> Integration:
        if self.tasks.config.git.autocommit_on_integrate:
            self.tasks.save_work(self.tasks.registry.get(params.task_id), "integrate")
        repo, task = self._synced(params.task_id, "integrate a task")
        target = validate_ref(params.target, "target") if params.target else task.target
        if not target or not repo.branch_exists(target):
            raise GitError(f"no target branch to integrate {task.id} into (pass target)", {"target": target})
        self._pre_integrate(task)
        with repo.ref_lock():
            worktree = repo.checked_out_worktrees().get(target)
            if worktree is not None and UserRepo(worktree).is_dirty(untracked=False):
                raise GitError(
                    f"{target} is checked out at {worktree} with uncommitted changes; commit or stash them first",
                    {"target": target, "worktree": str(worktree)},
                )
            previous = repo.resolve(f"refs/heads/{target}")
            commit = self._combine(repo, task, previous, params.strategy)
            if worktree is not None:
                UserRepo(worktree).run("merge", "--ff-only", "--no-edit", "-q", commit)
            elif commit != previous:
                repo.update_ref(target, commit, previous)
        updated = self.tasks.transition(
            task.id,
            Event.INTEGRATE,
            "integrate",
            integrated_commit=commit,
            integrated_head=repo.resolve(f"refs/heads/{task.branch}"),
        )
        self.git.run_hook(updated, "post-integrate")
        return Integration(
            task=updated,
            strategy=params.strategy,
            target=target,
            commit=commit,
            previous=previous,
            updated_worktree=worktree is not None,
        )

    def _pre_integrate(self, task: Task) -> None:
        outcome = self.git.run_hook(task, "pre-integrate")
        if outcome is not None and outcome[0] != 0:
            raise GitError(
                f"pre-integrate hook failed with exit code {outcome[0]}: {outcome[1][-2000:]}",
                {"hook": "pre-integrate", "exitCode": outcome[0], "output": outcome[1]},
            )

    def _combine(self, repo: UserRepo, task: Task, target: str, strategy: Strategy) -> str:
        head = repo.resolve(f"refs/heads/{task.branch}")
        if strategy == "ff-only" and not repo.is_ancestor(target, head):
            raise GitError(f"{task.branch} is not a fast-forward of its target; use merge, squash or rebase")
        if strategy in ("rebase", "ff-only"):
            return self._replay(repo, task, target, head)
        tree = self._merged_tree(repo, task, target, head, None)
        trailer = f"\n\nDockyard-Task: {task.id}"
        if strategy == "squash":
            subjects = repo.run("log", "--format=- %s", f"{target}..{head}").strip()
            return repo.commit_tree(tree, [target], f"{task.title}\n\n{subjects}{trailer}", {})
        return repo.commit_tree(tree, [target, head], f"Merge task {task.id}: {task.title}{trailer}", {})

    def _merged_tree(self, repo: UserRepo, task: Task, ours: str, theirs: str, base: str | None) -> str:
        tree, conflicts = repo.merge_tree(ours, theirs, base)
        if conflicts:
            self.tasks.transition(task.id, Event.CONFLICT, "integrate", reason="conflict: " + ", ".join(conflicts[:20]))
            raise MergeConflict(
                f"integrating {task.id} conflicts in {len(conflicts)} file(s): {', '.join(conflicts[:10])}",
                {"taskId": task.id, "files": conflicts},
            )
        return tree if self.keep_memory else repo.tree_with_path_from(tree, MEMORY_DIR, ours)

    def _replay(self, repo: UserRepo, task: Task, target: str, head: str) -> str:
        """Each task commit on top of the target, one by one (author and message kept)."""
        current = target
        for commit in repo.commits_between(repo.merge_base(target, head), head):
            tree = self._merged_tree(repo, task, current, commit, f"{commit}^")
            if tree == repo.tree_of(current):
                continue  # nothing left of it (e.g. a memory-only commit)
            author, message = repo.commit_identity(commit)
            current = repo.commit_tree(tree, [current], message, author)
        return current


def _numstat(raw: str) -> list[FileStat]:
    files = []
    for entry in raw.split("\0"):
        if not entry.strip():
            continue
        parts = entry.split("\t")
        if len(parts) < 3:
            continue
        added, removed, path = parts[0], parts[1], parts[2]
        files.append(
            FileStat(
                path=path,
                insertions=None if added == "-" else int(added),
                deletions=None if removed == "-" else int(removed),
            )
        )
    return files
