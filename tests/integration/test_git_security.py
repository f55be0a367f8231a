"""The git trust boundary (DESIGN §2) against real git, a real engine and a real daemon (issue 3).

A task checkout is written by its container, so it is hostile: the host must never run its hooks or config,
never follow its symlinks, and never accept refs or titles that smuggle options or paths.

Markers live under ``tmp_path`` on the host: a path that does not exist inside any container, so a marker
can only appear if the *host* ran the planted command.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import SANDBOX, git, repo_snapshot

from dockyard.protocol import methods as m
from dockyard.server.cli.rpc import RpcError

if TYPE_CHECKING:
    from conftest import GitDock

pytestmark = pytest.mark.docker

GIT_ERROR, INVALID_PARAMS = -32016, -32602
SECRET = "s3cr3t-host-only-0f1e2d"
MIRROR_WAIT_S = 5.0  # > two passes of the daemon's memory-mirror loop (every 2 s)


def poll(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def mirrored_text(ws: Path) -> str:
    """Everything under the workspace's memory mirror, concatenated (symlinks shown, never followed)."""
    out = []
    for path in sorted((ws / ".dockyard" / "tasks").rglob("*")):
        if path.is_symlink():
            out.append(f"LINK {path} -> {path.readlink()}")
        elif path.is_file():
            out.append(path.read_text(errors="replace"))
    return "\n".join(out)


def checkouts(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob("checkouts/*/*"))


# --- hostile refs and titles --------------------------------------------------------------------------

HOSTILE_REFS = [
    "--upload-pack=touch /tmp/pwned",
    "-b",
    "../../etc",
    "refs/heads/../../../etc/passwd",
    "main\nx",
    "main\x00x",
    "main x",
    "main..HEAD",
    "HEAD@{1}",
    "main~1",
    "main^",
    ":main",
    "main:a.txt",
    "x.lock",
    "/main",
    "main/",
    "a" * 300,
]


def test_hostile_base_refs_are_refused_and_nothing_is_created(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    before = repo_snapshot(ws)
    for bad in HOSTILE_REFS:
        err = git_dock.error(m.CREATE_TASK, {"title": "hostile", "image": SANDBOX, "baseRef": bad})
        assert err.code in (INVALID_PARAMS, GIT_ERROR), (bad, err)
    err = git_dock.error(m.CREATE_TASK, {"title": "missing", "image": SANDBOX, "baseRef": "no-such-branch"})
    assert err.code == GIT_ERROR
    err = git_dock.error(m.CREATE_TASK, {"title": "x" * 10_240, "image": SANDBOX})
    assert err.code == INVALID_PARAMS

    assert repo_snapshot(ws) == before  # no branch, no ref, nothing in the worktree
    assert git_dock.all_tasks() == []
    assert git_dock.leftovers() == ([], [])
    assert checkouts(git_dock.data_dir) == []
    assert not Path("/tmp/pwned").exists()


def test_hostile_titles_become_valid_branch_names_and_hostile_targets_are_refused(git_dock: GitDock) -> None:
    ws = git_dock.workspace
    titles = {
        "--upload-pack=touch /tmp/pwned": "upload-pack-touch-tmp-pwned",
        "../../etc/passwd": "etc-passwd",
        "main\nx; $(touch /tmp/pwned) `id`": "main-x-touch-tmp-pwned-id",
        "Ünïcödé — ✓ émoji 🚀": "unicode-emoji",
        "@{-1}..lock": "1-lock",
        "日本語だけ": "task",
        "y" * 200: "y" * 40,
    }
    for title, slug in titles.items():
        task = git_dock.task(title)
        branch = task["branch"]
        assert branch == f"dockyard/{slug}-{task['id']}", title
        git(ws, "check-ref-format", f"refs/heads/{branch}")  # AssertionError if git finds it invalid
        assert git(ws, "rev-parse", "--verify", f"refs/heads/{branch}").strip()
        assert task["title"] == title.strip()
        last = task
    assert not Path("/tmp/pwned").exists()

    git_dock.commit(last["id"], "t.txt", "t\n", "t")
    git_dock.diff(last["id"])
    before = repo_snapshot(ws)
    for bad in ["--force", "-D", "../main", "main\nx", "refs/heads/../x", "HEAD@{0}", "main:x", "a" * 201]:
        err = git_dock.error(m.INTEGRATE_TASK, {"taskId": last["id"], "target": bad})
        assert err.code in (INVALID_PARAMS, GIT_ERROR), (bad, err)
    err = git_dock.error(m.INTEGRATE_TASK, {"taskId": last["id"], "target": "no-such-branch"})
    assert err.code == GIT_ERROR
    assert repo_snapshot(ws) == before
    assert git_dock.get(last["id"])["task"]["state"] == "running"


# --- a tampered task checkout ------------------------------------------------------------------------


def plant(marker_dir: Path) -> str:
    """Shell (run in /workspace, inside the container) that arms every git hook and config command we know
    of: each touches ``marker_dir/<name>``, which exists on the host only. Inside the container the touch
    fails quietly and the command carries on (a pre-commit that failed would only stop the task's commit)."""
    hooks = (
        "pre-commit prepare-commit-msg commit-msg post-commit pre-merge-commit post-merge post-checkout "
        "post-rewrite pre-rebase pre-push pre-receive update post-update reference-transaction pre-auto-gc "
        "post-index-change push-to-checkout fsmonitor-watchman sendemail-validate"
    )
    touch = f"touch {marker_dir}"
    return f"""
set -e
for h in {hooks}; do
  printf '#!/bin/sh\\n{touch}/hook-%s 2>/dev/null\\necho %s >> /workspace/.git/hooks-ran\\nexit 0\\n' "$h" "$h" \\
    > .git/hooks/$h
  chmod +x .git/hooks/$h
done
git config core.fsmonitor "{touch}/fsmonitor 2>/dev/null; true"
git config core.hooksPath .git/hooks
git config filter.x.clean "sh -c '{touch}/filter-clean 2>/dev/null; cat'"
git config filter.x.smudge "sh -c '{touch}/filter-smudge 2>/dev/null; cat'"
git config diff.x.textconv "{touch}/textconv 2>/dev/null; cat"
git config diff.external "{touch}/diff-external"
git config merge.x.driver "{touch}/merge-driver"
git config core.pager "{touch}/pager; cat"
git config core.editor "{touch}/editor"
git config sequence.editor "{touch}/sequence-editor"
git config core.sshCommand "{touch}/ssh"
git config core.askPass "{touch}/askpass"
git config credential.helper "!{touch}/credential"
git config gpg.program "{touch}/gpg"
git config commit.gpgSign false
git config uploadpack.packObjectsHook "{touch}/pack-objects-hook"
git config core.alternateRefsCommand "{touch}/alternate-refs"
git config protocol.allow always
printf '* filter=x diff=x merge=x\\n' > .gitattributes
"""


def test_a_tampered_task_checkout_never_runs_anything_on_the_host(git_dock: GitDock, tmp_path: Path) -> None:
    ws = git_dock.workspace
    markers = tmp_path / "host-only-markers"
    markers.mkdir()
    task = git_dock.task("Tamper with git")
    tid, branch = task["id"], task["branch"]
    assert git_dock.exec(tid, f"test -e {markers}")["exitCode"] == 1  # the marker dir is the host's alone
    git_dock.sh(tid, plant(markers))

    # sync: the task commits inside its container (its hooks run there, harmlessly) and the branch comes out
    git_dock.commit(tid, "feature.txt", "feature\n", "feature with hostile attributes")
    git_dock.sh(tid, "git add .gitattributes && git commit -qm 'add .gitattributes'")
    ran = git_dock.sh(tid, "cat .git/hooks-ran").split()
    assert {"pre-commit", "commit-msg", "post-commit"} <= set(ran)  # armed: they would fire wherever git runs
    diff = git_dock.diff(tid)
    assert {f["path"] for f in diff["files"]} >= {"feature.txt", ".gitattributes"}
    assert git(ws, "show", f"{branch}:.gitattributes") == "* filter=x diff=x merge=x\n"

    # integrate into the checked-out main: git runs in the user's worktree, with the task's .gitattributes
    result = git_dock.integrate(tid, "merge")
    assert result["updatedWorktree"] is True and (ws / ".gitattributes").is_file()
    assert (ws / "feature.txt").read_text() == "feature\n"

    # (the planted core.fsmonitor also hides pending changes from the stop auto-commit inside the container:
    # the task can only hurt its own work that way, so it is not asserted here)
    git_dock.sh(tid, "echo pending > pending.txt")
    assert git_dock.call(m.STOP_TASK, {"taskId": tid, "timeoutS": 2})["state"] == "stopped"
    assert git_dock.call(m.REMOVE_TASK, {"taskId": tid, "force": True, "deleteBranch": True})["removed"]

    assert sorted(p.name for p in markers.iterdir()) == []
    planted = r"^(filter|diff|merge|core\.(fsmonitor|hookspath|pager|editor|sshcommand|askpass)|credential)\b"
    assert git(ws, "config", "--local", "--get-regexp", planted, check=False) == ""
    assert sorted(p.name for p in (ws / ".git" / "hooks").iterdir() if not p.name.endswith(".sample")) == []
    git(ws, "fsck", "--strict", "--no-progress")


def test_symlinked_memory_files_are_never_followed_by_the_mirror(git_dock: GitDock, tmp_path: Path) -> None:
    ws = git_dock.workspace
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(f"{SECRET} (a file)\n")
    secret_dir = tmp_path / "secret-dir"
    secret_dir.mkdir()
    for name in ("MEMORY.md", "PLAN.md"):
        (secret_dir / name).write_text(f"{SECRET} (a directory)\n")
    task = git_dock.task("Symlinked memory")
    tid = task["id"]
    mirror = ws / ".dockyard" / "tasks" / tid / "MEMORY.md"
    git_dock.sh(tid, "echo 'first real note' >> .dockyard/task/MEMORY.md")
    poll(lambda: mirror.is_file() and "first real note" in mirror.read_text(), "the first note in the mirror")
    kept = mirror.read_text()

    # MEMORY.md -> the host's secret file (absolute host path: dangling in the container, real on the host)
    git_dock.sh(tid, f"ln -sf {secret_file} .dockyard/task/MEMORY.md && mkfifo .dockyard/task/PLAN.md.fifo")
    git_dock.sh(tid, "rm .dockyard/task/PLAN.md && mv .dockyard/task/PLAN.md.fifo .dockyard/task/PLAN.md")
    time.sleep(MIRROR_WAIT_S)
    assert mirror.read_text() == kept and not mirror.is_symlink()
    assert SECRET not in mirrored_text(ws)

    # the mirror is alive (a FIFO did not hang it): a real file again is mirrored
    git_dock.sh(tid, "rm .dockyard/task/MEMORY.md && echo 'second real note' > .dockyard/task/MEMORY.md")
    poll(lambda: "second real note" in mirror.read_text(), "the second note in the mirror")
    kept = mirror.read_text()

    # the whole .dockyard/task directory -> a host directory holding a secret MEMORY.md and PLAN.md
    git_dock.sh(tid, f"rm -rf .dockyard/task && ln -s {secret_dir} .dockyard/task")
    time.sleep(MIRROR_WAIT_S)
    git_dock.sh(tid, "true")  # an exec: the daemon mirrors after it, too
    time.sleep(1)
    assert mirror.read_text() == kept
    assert SECRET not in mirrored_text(ws)

    # and a stop auto-commit carries the symlink as inert data, never the host file's content
    git_dock.call(m.STOP_TASK, {"taskId": tid, "timeoutS": 2})
    assert git(ws, "cat-file", "-p", f"{task['branch']}:.dockyard/task").strip() == str(secret_dir)
    assert SECRET not in mirrored_text(ws)
    assert (secret_dir / "MEMORY.md").read_text() == f"{SECRET} (a directory)\n"


def test_a_committed_memory_symlink_never_makes_the_host_write_outside_the_checkout(
    git_dock: GitDock, tmp_path: Path
) -> None:
    """A subtask's checkout starts from its parent's branch, memory files included: the host writes the
    subtask's own templates there, and must replace a planted symlink instead of writing through it."""
    ws = git_dock.workspace
    outside = tmp_path / "outside"
    outside.mkdir()
    parent = git_dock.task("Plant memory symlinks")
    pid = parent["id"]
    git_dock.sh(
        pid,
        f"ln -sf {outside}/memory-written .dockyard/task/MEMORY.md && ln -sf {outside}/plan-written "
        ".dockyard/task/PLAN.md && git add -A && git commit -qm 'memory symlinks'",
    )
    git_dock.diff(pid)  # synced into the user's repository
    try:
        child: dict[str, Any] | RpcError = git_dock.task("Child of a planted parent", parentId=pid)
    except RpcError as exc:
        child = exc
    assert sorted(p.name for p in outside.iterdir()) == []  # nothing written through the links
    assert isinstance(child, dict), child
    cid = child["id"]
    memory = git_dock.sh(cid, "test ! -L .dockyard/task/MEMORY.md && cat .dockyard/task/MEMORY.md")
    assert memory.startswith(f"# Memory of {cid}: Child of a planted parent")

    # the whole directory as a symlink, planted on a branch another task then starts from
    git_dock.sh(pid, f"rm -rf .dockyard/task && ln -s {outside} .dockyard/task && git add -A && git commit -qm dir")
    git_dock.diff(pid)
    child = git_dock.task("Second child", parentId=pid)
    assert sorted(p.name for p in outside.iterdir()) == []
    assert git_dock.sh(child["id"], "test ! -L .dockyard/task && cat .dockyard/task/PLAN.md").startswith("# Plan for")
    assert "outside" not in git(ws, "status", "--porcelain")
