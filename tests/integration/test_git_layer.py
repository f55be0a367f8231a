"""The git layer against real git, a real engine and a real daemon over stdio (issue 3).

Every test starts from a fresh ``main`` repository (the ``git_workspace`` fixture) and a daemon whose task
checkouts land in the test's tmp data dir. Commits of a task are made inside its container, as the task
user; diff and integration are checked in the user's repository with plain git.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import (
    HOST_GIT_ENV,
    SANDBOX,
    TASK_UID,
    USER_EMAIL,
    USER_NAME,
    GitDock,
    git,
    hash_files,
    init_repo,
    repo_snapshot,
)

from dockyard.protocol import methods as m
from dockyard.server.cli.rpc import RpcError

if TYPE_CHECKING:
    import docker
    from conftest import Spawn

pytestmark = pytest.mark.docker

STRATEGIES = ("merge", "squash", "rebase", "ff-only")
GIT_ERROR, MERGE_CONFLICT, INVALID_STATE = -32016, -32017, -32011
CHANGED_A = "line one\nline two, changed by the task\nline three\n"


def poll(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def rev(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", "--verify", ref).strip()


def succeeds(repo: Path, *args: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=HOST_GIT_ENV).returncode == 0


def parents(repo: Path, commit: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]


def tree_files(repo: Path, commit: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", commit).split()


def refs_except(snapshot: dict[str, Any], *changed: str) -> list[str]:
    return [line for line in snapshot["refs"].splitlines() if line.split()[0] not in changed]


def check_integration(repo: Path, strategy: str, commit: str, base: str, head: str, title: str) -> None:
    """The shape each strategy promises; the memory files never reach the target."""
    assert tree_files(repo, commit) == ["a.txt", "feature.txt"], strategy
    assert git(repo, "show", f"{commit}:a.txt") == CHANGED_A
    if strategy == "merge":
        assert parents(repo, commit) == [base, head]
    elif strategy == "squash":
        assert parents(repo, commit) == [base]
        assert git(repo, "log", "-1", "--format=%s", commit).strip() == title
    else:  # rebase, ff-only: the task's own commits replayed one by one (the memory-only one drops out)
        log = git(repo, "log", "--reverse", "--format=%P|%an|%ae|%s", f"{base}..{commit}").splitlines()
        assert [line.split("|", 1)[1] for line in log] == [
            f"{USER_NAME}|{USER_EMAIL}|Add feature.txt",
            f"{USER_NAME}|{USER_EMAIL}|Change line two",
        ], strategy
        assert all(len(line.split("|")[0].split()) == 1 for line in log), "replayed history must be linear"
        assert parents(repo, commit)[0] != base and rev(repo, f"{commit}~2") == base


def test_commits_in_the_container_then_diff_and_every_strategy_into_checked_out_and_other_branches(
    git_dock: GitDock,
) -> None:
    ws = git_dock.workspace
    base = rev(ws, "main")
    for strategy in STRATEGIES:
        git(ws, "branch", f"bg-{strategy}", base)  # never checked out
        git(ws, "branch", f"co-{strategy}", base)  # checked out when integrated into
    task = git_dock.task("Add feature")
    tid, branch = task["id"], task["branch"]
    assert branch == f"dockyard/add-feature-{tid}"
    assert (task["target"], task["baseRef"], task["uncommitted"]) == ("main", base, False)
    checkout = Path(task["checkoutPath"])
    assert checkout.is_relative_to(git_dock.data_dir) and (checkout / ".git").is_dir()

    git_dock.commit(tid, "feature.txt", "feature\n", "Add feature.txt")
    git_dock.commit(tid, "a.txt", CHANGED_A, "Change line two")
    assert git_dock.sh(tid, "id -u").strip() == str(TASK_UID)
    identities = set(git_dock.sh(tid, "git log --format='%an|%ae|%cn'").splitlines())
    assert identities == {f"{USER_NAME}|{USER_EMAIL}|{USER_NAME}"}
    for rel in ("feature.txt", "a.txt", ".git/index", ".git/HEAD"):
        assert (checkout / rel).stat().st_uid == TASK_UID, rel

    (ws / "b.txt").write_text("main moves on\n")  # the target gets one commit the task does not have
    git(ws, "add", "b.txt")
    git(ws, "commit", "-q", "-m", "main moves on")
    diff = git_dock.diff(tid)
    head = rev(ws, branch)  # synced into the user's repository by the diff
    assert (diff["branch"], diff["target"], diff["base"], diff["head"]) == (branch, "main", base, head)
    assert (diff["ahead"], diff["behind"]) == (3, 1)  # memory template commit + the task's two; main's one
    code = {f["path"]: (f["insertions"], f["deletions"]) for f in diff["files"]}
    assert {p: c for p, c in code.items() if not p.startswith(".dockyard/")} == {"a.txt": (1, 1), "feature.txt": (1, 0)}
    assert diff["insertions"] == sum(c[0] for c in code.values()) and diff["deletions"] == 1
    patch = diff["patch"]
    assert (
        "-line two\n+line two, changed by the task\n" in patch
        and "+++ b/feature.txt\n@@ -0,0 +1 @@\n+feature\n" in patch
    )
    assert diff["truncated"] is False and "b.txt" not in patch
    assert git_dock.diff(tid, stat=True).get("patch") is None
    assert git_dock.sh(tid, "git log -1 --format=%s").strip() == "Change line two"  # nothing happened to the task

    for strategy in STRATEGIES:
        # (b) a branch that is not checked out: only its ref moves; the user's worktree and HEAD stay as they are
        target = f"bg-{strategy}"
        before = repo_snapshot(ws)
        result = git_dock.integrate(tid, strategy, target=target)
        assert (result["target"], result["previous"], result["strategy"]) == (target, base, strategy)
        assert result["updatedWorktree"] is False and rev(ws, target) == result["commit"]
        assert result["task"]["state"] == "integrated" and result["task"]["integratedCommit"] == result["commit"]
        after = repo_snapshot(ws)
        assert {k: v for k, v in after.items() if k != "refs"} == {k: v for k, v in before.items() if k != "refs"}
        assert refs_except(after, f"refs/heads/{target}") == refs_except(before, f"refs/heads/{target}")
        check_integration(ws, strategy, result["commit"], base, head, "Add feature")

        # (a) the checked-out branch: fast-forwarded in the user's worktree, so the files appear on disk
        target = f"co-{strategy}"
        git(ws, "checkout", "-q", target)
        assert not (ws / "feature.txt").exists()
        result = git_dock.integrate(tid, strategy, target=target)
        assert result["updatedWorktree"] is True and result["previous"] == base
        assert rev(ws, "HEAD") == rev(ws, target) == result["commit"]
        assert (ws / ".git" / "HEAD").read_text() == f"ref: refs/heads/{target}\n"
        assert (ws / "feature.txt").read_text() == "feature\n" and (ws / "a.txt").read_text() == CHANGED_A
        assert git(ws, "status", "--porcelain", "--", ".", ":(exclude).dockyard") == ""
        assert not (ws / ".dockyard" / "task").exists()
        check_integration(ws, strategy, result["commit"], base, head, "Add feature")

    assert rev(ws, branch) == head  # integration never rewrites the task branch
    git(ws, "fsck", "--strict", "--no-progress")


def test_a_dirty_or_colliding_checked_out_target_is_refused_and_nothing_changes(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    task = git_dock.task("Touch a")
    tid = task["id"]
    git_dock.commit(tid, "a.txt", CHANGED_A, "Change line two")
    git_dock.commit(tid, "new.txt", "from the task\n", "Add new.txt")
    git_dock.diff(tid)  # synced: the snapshots below compare a settled repository

    (ws / "a.txt").write_text("the user's own edit, not committed\n")
    before = repo_snapshot(ws)
    assert " M a.txt" in before["status"]
    for strategy in STRATEGIES:
        err = git_dock.error(m.INTEGRATE_TASK, {"taskId": tid, "strategy": strategy})
        assert err.code == GIT_ERROR, (strategy, err)
        assert "uncommitted changes" in err.message and err.data["target"] == "main"
        assert repo_snapshot(ws) == before, strategy
    assert git_dock.get(tid)["task"]["state"] == "running"

    # clean tracked files, but an untracked file the task would overwrite: git refuses, nothing moves
    git(ws, "checkout", "--", "a.txt")
    (ws / "new.txt").write_text("the user's untracked file\n")
    before = repo_snapshot(ws)
    err = git_dock.error(m.INTEGRATE_TASK, {"taskId": tid, "strategy": "merge"})
    assert err.code == GIT_ERROR and "new.txt" in err.message
    assert repo_snapshot(ws) == before
    assert (ws / "new.txt").read_text() == "the user's untracked file\n"
    assert git_dock.get(tid)["task"]["state"] == "running"


def test_conflicting_sibling_tasks_the_second_is_refused_and_conflicted(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    first, second = git_dock.task("First edit"), git_dock.task("Second edit")
    git_dock.commit(first["id"], "a.txt", "line one\nline two by first\nline three\n", "first edit")
    git_dock.commit(second["id"], "a.txt", "line one\nline two by second\nline three\n", "second edit")
    git_dock.commit(second["id"], "other.txt", "no conflict here\n", "second: another file")

    done = git_dock.integrate(first["id"], "merge")
    assert done["updatedWorktree"] is True and "by first" in (ws / "a.txt").read_text()
    git_dock.diff(second["id"])  # synced now, so nothing else moves while we compare

    before = repo_snapshot(ws)
    for strategy in ("merge", "squash", "rebase"):
        mark = git_dock.mark()
        err = git_dock.error(m.INTEGRATE_TASK, {"taskId": second["id"], "strategy": strategy})
        assert err.code == MERGE_CONFLICT, (strategy, err)
        assert err.data["files"] == ["a.txt"] and err.data["taskId"] == second["id"]
        changed = git_dock.wait_state(second["id"], "conflicted", start=mark)
        assert "a.txt" in (changed["reason"] or "")
        assert repo_snapshot(ws) == before, strategy  # refs, HEAD, index, worktree; no MERGE_HEAD
    err = git_dock.error(m.INTEGRATE_TASK, {"taskId": second["id"], "strategy": "ff-only"})
    assert err.code == GIT_ERROR and "fast-forward" in err.message
    assert repo_snapshot(ws) == before
    assert git_dock.get(second["id"])["task"]["state"] == "conflicted"
    assert git(ws, "cat-file", "-t", "MERGE_HEAD", check=False) == ""


def test_memory_is_mirrored_committed_on_stop_and_left_out_of_the_target(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    task = git_dock.task("Remember things")
    tid, branch = task["id"], task["branch"]
    mirror = ws / ".dockyard" / "tasks" / tid / "MEMORY.md"
    template = git_dock.sh(tid, "cat .dockyard/task/MEMORY.md")  # committed in the checkout; synced later
    assert git_dock.sh(tid, "git status --porcelain") == ""
    assert template.startswith(f"# Memory of {tid}: Remember things")
    poll(lambda: mirror.is_file() and mirror.read_text() == template, "the template in the mirror")

    git_dock.sh(tid, "printf -- '- learnt: the answer is 42\\n' >> .dockyard/task/MEMORY.md")
    poll(lambda: "the answer is 42" in mirror.read_text(), "the edited MEMORY.md in the mirror")
    assert mirror.read_text() == template + "- learnt: the answer is 42\n"
    git_dock.sh(tid, "echo work in progress > wip.txt")  # uncommitted: the stop auto-commit takes it too

    stopped = git_dock.call(m.STOP_TASK, {"taskId": tid, "timeoutS": 2})
    assert stopped["state"] == "stopped"
    assert git(ws, "show", f"{branch}:.dockyard/task/MEMORY.md") == template + "- learnt: the answer is 42\n"
    assert git(ws, "show", f"{branch}:wip.txt") == "work in progress\n"
    message = git(ws, "log", "-1", "--format=%an|%B", branch)
    assert message.startswith(f"{USER_NAME}|Dockyard: stop") and f"Dockyard-Task: {tid}" in message

    result = git_dock.integrate(tid, "merge")  # a stopped task integrates from its synced branch
    assert result["updatedWorktree"] is True and (ws / "wip.txt").read_text() == "work in progress\n"
    assert not any(p.startswith(".dockyard/") for p in tree_files(ws, "main"))
    assert not (ws / ".dockyard" / "task").exists()
    assert git(ws, "show", f"{branch}:.dockyard/task/MEMORY.md").endswith("the answer is 42\n")  # kept on the branch


def test_include_uncommitted_carries_changes_and_never_touches_the_users_checkout(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    (ws / ".gitignore").write_text("*.log\n")
    git(ws, "add", ".gitignore")
    git(ws, "commit", "-q", "-m", "ignore logs")
    (ws / "a.txt").write_text("line one\nuncommitted edit\nline three\n")  # tracked, modified
    (ws / "new.txt").write_text("untracked\n")
    (ws / "sub").mkdir()
    (ws / "sub" / "deep.txt").write_text("untracked, deeper\n")
    (ws / "debug.log").write_text("ignored\n")
    before = hash_files(ws)
    config_before = (ws / ".git" / "config").read_bytes()
    status_before = git(ws, "status", "--porcelain", "--", ".", ":(exclude).dockyard")

    carried = git_dock.task("Carry my work", includeUncommitted=True)
    assert carried["uncommitted"] is True
    tid = carried["id"]
    assert git_dock.sh(tid, "cat a.txt") == "line one\nuncommitted edit\nline three\n"
    assert git_dock.sh(tid, "cat new.txt sub/deep.txt") == "untracked\nuntracked, deeper\n"
    assert git_dock.exec(tid, "test -e debug.log")["exitCode"] == 1
    status = git_dock.sh(tid, "git status --porcelain").splitlines()
    assert sorted(status) == [" M a.txt", "?? new.txt", "?? sub/"]  # carried as uncommitted work
    assert git_dock.sh(tid, "stat -c %u a.txt new.txt sub/deep.txt").split() == [str(TASK_UID)] * 3

    plain = git_dock.task("Leave it")
    assert plain["uncommitted"] is True  # reported, not carried
    pid = plain["id"]
    assert git_dock.sh(pid, "cat a.txt") == "line one\nline two\nline three\n"
    assert git_dock.exec(pid, "test -e new.txt || test -e sub || test -e debug.log")["exitCode"] == 1
    assert git_dock.sh(pid, "git status --porcelain") == ""

    assert hash_files(ws) == before  # every file of the worktree, .git/index and .git/HEAD: byte for byte
    assert (ws / ".git" / "config").read_bytes() == config_before
    assert git(ws, "status", "--porcelain", "--", ".", ":(exclude).dockyard") == status_before


def test_a_workspace_that_is_not_a_repository_gets_a_volume_and_a_clear_git_error(
    workspace: Path, spawn: Spawn, engine: docker.DockerClient, data_dir: Path
) -> None:
    dock = GitDock(spawn(env={"DOCKYARD_DATA_DIR": str(data_dir)}), workspace, engine, data_dir)
    task = dock.task("No repository here")
    tid = task["id"]
    assert task["state"] == "running"
    assert task.get("branch") is None and task.get("checkoutPath") is None
    mounts = {mnt["Destination"]: mnt for mnt in dock.inspect(tid)["Mounts"]}
    assert mounts["/workspace"]["Type"] == "volume" and mounts["/workspace"]["Name"] == f"dockyard-{tid}-workspace"
    assert dock.sh(tid, "echo hello > /workspace/x && cat /workspace/x") == "hello\n"
    for method in (m.DIFF_TASK, m.INTEGRATE_TASK):
        err = dock.error(method, {"taskId": tid})
        assert err.code == GIT_ERROR, (method, err)
        assert "not a git repository" in err.message or "no branch" in err.message, err.message
    err = dock.error(m.CREATE_TASK, {"title": "carry", "image": SANDBOX, "includeUncommitted": True})
    assert err.code == GIT_ERROR and "git workspace" in err.message
    assert not (data_dir / "checkouts").exists()


def test_remove_deletes_the_checkout_and_guards_unintegrated_branches(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    keep, drop, idle = git_dock.task("Keep my work"), git_dock.task("Throw away"), git_dock.task("Did nothing")
    git_dock.commit(keep["id"], "keep.txt", "keep\n", "keep this")
    git_dock.commit(drop["id"], "drop.txt", "drop\n", "drop this")
    for task in (keep, drop, idle):
        git_dock.call(m.STOP_TASK, {"taskId": task["id"], "timeoutS": 2})

    err = git_dock.error(m.REMOVE_TASK, {"taskId": keep["id"], "deleteBranch": True})
    assert err.code == INVALID_STATE and "unintegrated" in err.message
    assert git(ws, "show", f"{keep['branch']}:keep.txt") == "keep\n"
    assert Path(keep["checkoutPath"]).is_dir() and git_dock.get(keep["id"])["task"]["state"] == "stopped"

    git_dock.integrate(keep["id"], "squash")
    assert git_dock.call(m.REMOVE_TASK, {"taskId": keep["id"], "deleteBranch": True}) == {"removed": True}
    assert git(ws, "branch", "--list", keep["branch"]) == ""
    assert not Path(keep["checkoutPath"]).exists()
    assert (ws / "keep.txt").read_text() == "keep\n" and git(ws, "show", "main:keep.txt") == "keep\n"

    assert git_dock.call(m.REMOVE_TASK, {"taskId": drop["id"], "deleteBranch": True, "force": True})["removed"]
    assert git(ws, "branch", "--list", drop["branch"]) == "" and not Path(drop["checkoutPath"]).exists()

    # only the memory template commit: nothing to lose, no force needed; without deleteBranch it stays
    assert git_dock.call(m.REMOVE_TASK, {"taskId": idle["id"]})["removed"]
    assert not Path(idle["checkoutPath"]).exists() and git(ws, "branch", "--list", idle["branch"]).strip()
    assert git(ws, "branch", "--list", "dockyard/*").split() == [idle["branch"]]
    assert git_dock.leftovers() == ([], [])
    git(ws, "fsck", "--strict", "--no-progress")


def test_delete_branch_guards_commits_made_after_an_integration(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    task = git_dock.task("Integrate then keep working")
    git_dock.commit(task["id"], "one.txt", "one\n", "first piece")
    git_dock.integrate(task["id"], "merge")
    git_dock.commit(task["id"], "two.txt", "two\n", "second piece, never integrated")
    git_dock.diff(task["id"])  # synced: the user's branch has the new commit
    assert git(ws, "show", f"{task['branch']}:two.txt") == "two\n"
    err = git_dock.error(m.REMOVE_TASK, {"taskId": task["id"], "deleteBranch": True})
    assert err.code == INVALID_STATE
    assert git(ws, "branch", "--list", task["branch"]).strip()


def test_a_subtask_starts_from_its_parents_branch_and_integrates_back_into_it(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    parent = git_dock.task("Parent work")
    git_dock.commit(parent["id"], "parent.txt", "made in the parent\n", "parent commit")
    child = git_dock.task("Child work", parentId=parent["id"])
    assert child["parentId"] == parent["id"] and child["target"] == parent["branch"]
    assert child["baseRef"] == rev(ws, parent["branch"])
    assert git_dock.sh(child["id"], "cat parent.txt") == "made in the parent\n"
    assert git_dock.sh(child["id"], "git log -1 --format=%s HEAD~1").strip() == "parent commit"

    git_dock.commit(child["id"], "child.txt", "made in the child\n", "child commit")
    result = git_dock.integrate(child["id"], "merge")
    assert result["target"] == parent["branch"] and result["updatedWorktree"] is False
    assert git(ws, "show", f"{parent['branch']}:child.txt") == "made in the child\n"
    assert git(ws, "show", f"{parent['branch']}:parent.txt") == "made in the parent\n"
    assert not (ws / "child.txt").exists() and rev(ws, "HEAD") == rev(ws, "main")
    listed = git_dock.call(m.LIST_TASKS, {"parentId": parent["id"]})["tasks"]
    assert [t["id"] for t in listed] == [child["id"]]


def test_a_parents_next_sync_keeps_what_a_subtask_integrated_into_its_branch(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    parent = git_dock.task("Parent work")
    child = git_dock.task("Child work", parentId=parent["id"])
    git_dock.commit(child["id"], "child.txt", "made in the child\n", "child commit")
    integrated = git_dock.integrate(child["id"], "merge")["commit"]
    assert rev(ws, parent["branch"]) == integrated

    git_dock.commit(parent["id"], "parent.txt", "made in the parent later\n", "parent commit")
    with contextlib.suppress(RpcError):  # refusing the sync would be acceptable; dropping the commit is not
        git_dock.diff(parent["id"])  # syncs the parent's branch
    assert succeeds(ws, "merge-base", "--is-ancestor", integrated, parent["branch"])
    assert "child.txt" in tree_files(ws, parent["branch"])


# --- submodules (nested): populated offline from the user's module clones, synced back per module ----------


def make_nested_submodules(tmp: Path, ws: Path) -> dict[str, str]:
    """ws (already a repo) -> submodule ``mid`` -> submodule ``leaf``, from local bare repositories."""
    allow = ("-c", "protocol.file.allow=always")
    init_repo(tmp / "leaf-src", "leaf\n")
    git(tmp, "clone", "-q", "--bare", str(tmp / "leaf-src"), str(tmp / "leaf.git"))
    init_repo(tmp / "mid-src", "mid\n")
    git(tmp / "mid-src", *allow, "submodule", "add", "-q", str(tmp / "leaf.git"), "leaf")
    git(tmp / "mid-src", "commit", "-q", "-m", "add leaf")
    git(tmp, "clone", "-q", "--bare", str(tmp / "mid-src"), str(tmp / "mid.git"))
    git(ws, *allow, "submodule", "add", "-q", str(tmp / "mid.git"), "mid")
    git(ws, *allow, "submodule", "update", "-q", "--init", "--recursive")
    git(ws, "commit", "-q", "-m", "add mid (with leaf)")
    return {
        "mid": git(ws, "ls-tree", "HEAD", "mid").split()[2],
        "leaf": git(ws / "mid", "ls-tree", "HEAD", "leaf").split()[2],
    }


def test_nested_submodules_are_populated_at_their_recorded_commits_offline(
    git_workspace: Path, spawn: Spawn, engine: docker.DockerClient, data_dir: Path, tmp_path: Path
) -> None:
    recorded = make_nested_submodules(tmp_path / "remotes", git_workspace)
    for bare in ("leaf.git", "mid.git"):  # no network, and not even the original URLs: only the user's clones
        (tmp_path / "remotes" / bare).rename(tmp_path / "remotes" / f"{bare}.gone")
    dock = GitDock(spawn(env={"DOCKYARD_DATA_DIR": str(data_dir)}), git_workspace, engine, data_dir)
    task = dock.task("Submodules")
    tid = task["id"]
    assert dock.sh(tid, "cat mid/a.txt mid/leaf/a.txt") == "mid\nleaf\n"
    assert dock.sh(tid, "git -C mid rev-parse HEAD").strip() == recorded["mid"]
    assert dock.sh(tid, "git -C mid/leaf rev-parse HEAD").strip() == recorded["leaf"]
    status = dock.sh(tid, "git submodule status --recursive").splitlines()
    assert len(status) == 2 and all(line.startswith(" ") for line in status), status  # initialised, at the record
    assert dock.sh(tid, "git status --porcelain") == ""
    assert dock.sh(tid, "stat -c %u mid/a.txt mid/leaf/a.txt").split() == [str(TASK_UID)] * 2


def test_submodule_commits_reach_the_users_module_repositories_on_integrate(
    git_workspace: Path, spawn: Spawn, engine: docker.DockerClient, data_dir: Path, tmp_path: Path
) -> None:
    ws = git_workspace
    make_nested_submodules(tmp_path / "remotes", ws)
    for bare in ("leaf.git", "mid.git"):  # the host must need nothing but the bundles (no remote, no network)
        (tmp_path / "remotes" / bare).rename(tmp_path / "remotes" / f"{bare}.gone")
    dock = GitDock(spawn(env={"DOCKYARD_DATA_DIR": str(data_dir)}), ws, engine, data_dir)
    task = dock.task("Submodule change")
    tid, branch = task["id"], task["branch"]
    for path in ("mid", "mid/leaf"):  # the task branch, not a detached HEAD, in every submodule
        assert dock.sh(tid, f"git -C {path} symbolic-ref --short HEAD").strip() == branch, path

    # explicit commits by the task: the nested leaf, mid (its content and the leaf pointer), the superproject
    dock.sh(
        tid,
        "cd mid/leaf && echo 'leaf, changed' > a.txt && git commit -qam 'change leaf' && cd .. "
        "&& echo 'mid, changed' > a.txt && git add a.txt leaf && git commit -qm 'change mid' && cd .. "
        "&& git add mid && git commit -qm 'move mid pointer'",
    )
    leaf_commit = dock.sh(tid, "git -C mid/leaf rev-parse HEAD").strip()
    mid_commit = dock.sh(tid, "git -C mid rev-parse HEAD").strip()
    dock.diff(tid)  # sync: each module's branch into the user's module clone, then the superproject's
    mid_module = ws / ".git" / "modules" / "mid"
    leaf_module = mid_module / "modules" / "leaf"
    assert rev(mid_module, f"refs/heads/{branch}") == mid_commit
    assert rev(leaf_module, f"refs/heads/{branch}") == leaf_commit

    # then uncommitted work in the leaf: the stop auto-commit commits leaf, mid and the superproject in turn
    dock.sh(tid, "echo 'leaf, changed again' > mid/leaf/a.txt")
    assert dock.call(m.STOP_TASK, {"taskId": tid, "timeoutS": 2})["state"] == "stopped"

    result = dock.integrate(tid, "merge")
    assert result["updatedWorktree"] is True
    mid_head = rev(mid_module, f"refs/heads/{branch}")
    leaf_head = rev(leaf_module, f"refs/heads/{branch}")
    assert git(ws, "ls-tree", "main", "mid").split()[2] == mid_head
    assert git(mid_module, "ls-tree", mid_head, "leaf").split()[2] == leaf_head
    assert succeeds(mid_module, "merge-base", "--is-ancestor", mid_commit, mid_head)
    assert succeeds(leaf_module, "merge-base", "--is-ancestor", leaf_commit, leaf_head)
    assert git(mid_module, "show", f"{mid_head}:a.txt") == "mid, changed\n"
    assert git(leaf_module, "show", f"{leaf_head}:a.txt") == "leaf, changed again\n"
    assert git(leaf_module, "log", "-1", "--format=%an|%s", leaf_head).startswith(f"{USER_NAME}|Dockyard: stop")
    for module in (ws, mid_module, leaf_module):
        git(module, "fsck", "--strict", "--no-progress")
