"""The git layer through the ``dockyard`` CLI: real processes, real daemon, real engine, real git.

Each test gets a fresh repository (``git init -b main``, one commit) as its workspace and its own
``DOCKYARD_DATA_DIR``, so task checkouts live under the test's tmp dir. Containers and volumes labelled with
a workspace under that tmp dir are removed afterwards, whatever happened.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

pytestmark = pytest.mark.docker

SANDBOX = "dockyard/sandbox:0.1.0"  # has git; the busybox test image has not
CLI = [sys.executable, "-m", "dockyard.server"]
WORKSPACE_LABEL = "dockyard.workspace"
COMMIT_IN_TASK = "echo x > f.txt && git add f.txt && git commit -qm f"


# --- fixtures -----------------------------------------------------------------------------------------------
def remove_under(engine: docker.DockerClient, root: Path) -> None:
    """Containers and volumes whose workspace label lies under ``root``."""
    for container in engine.containers.list(all=True, filters={"label": WORKSPACE_LABEL}):
        if container.labels.get(WORKSPACE_LABEL, "").startswith(str(root)):
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True)
    for volume in engine.volumes.list(filters={"label": WORKSPACE_LABEL}):
        if (volume.attrs.get("Labels") or {}).get(WORKSPACE_LABEL, "").startswith(str(root)):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    engine = docker.from_env(timeout=30)
    engine.ping()  # an engine or an error: never a skip
    resolved = tmp_path.resolve()
    try:
        yield resolved
    finally:
        remove_under(engine, resolved)
        engine.close()


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def repo(root: Path) -> Path:
    """A fresh repository on ``main`` with one commit."""
    path = root / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.invalid")
    git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("# test\n")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "first")
    return path


@pytest.fixture
def data_dir(root: Path) -> Path:
    return root / "data"


def cli(repo: Path, data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKYARD_DATA_DIR": str(data_dir)}
    argv = [*CLI, "--workspace", str(repo), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def on_terminal(repo: Path, data_dir: Path, *args: str) -> str:
    """Run the CLI with stdout on a pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    env = {**os.environ, "DOCKYARD_DATA_DIR": str(data_dir), "COLUMNS": "200", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([*CLI, "--workspace", str(repo), *args], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode()


def new_task(repo: Path, data_dir: Path, title: str, *extra: str) -> dict[str, Any]:
    out = ok(cli(repo, data_dir, "task", "new", title, "--image", SANDBOX, "--json", *extra))
    task: dict[str, Any] = json.loads(out)
    return task


# --- the main path ------------------------------------------------------------------------------------------
def test_new_commit_diff_integrate_path_memory_rm(repo: Path, data_dir: Path) -> None:
    task = new_task(repo, data_dir, "git flow")
    tid = task["id"]
    assert task["branch"].startswith("dockyard/git-flow-") and task["target"] == "main"
    assert task["checkoutPath"].startswith(str(data_dir / "checkouts"))
    assert task["uncommitted"] is False

    ok(cli(repo, data_dir, "task", "exec", tid, "--", "sh", "-c", COMMIT_IN_TASK))

    stat = ok(cli(repo, data_dir, "task", "diff", tid, "--stat"))
    assert "f.txt" in stat and "→ main" in stat and "diff --git" not in stat
    full = ok(cli(repo, data_dir, "task", "diff", tid))
    assert "diff --git a/f.txt b/f.txt" in full and "\n+x\n" in full
    assert "\x1b[" not in full, "colour codes in output that is not a terminal"

    main_before = git(repo, "rev-parse", "main").strip()
    out = ok(cli(repo, data_dir, "task", "integrate", tid, "--strategy", "squash"))
    assert f"integrated {tid} into main (squash)" in out and "worktree was updated" in out
    main_after = git(repo, "rev-parse", "main").strip()
    assert main_after != main_before and main_after in out
    assert (repo / "f.txt").read_text() == "x\n", "the user's worktree was not updated"
    assert git(repo, "rev-parse", "main^").strip() == main_before, "squash is one commit on top of main"
    tree = git(repo, "ls-tree", "-r", "--name-only", "main").split()
    assert "f.txt" in tree and not any(p.startswith(".dockyard/task/") for p in tree), tree

    path = ok(cli(repo, data_dir, "task", "path", tid))
    assert path == task["checkoutPath"] + "\n" and Path(path.strip()).is_dir()
    assert (Path(path.strip()) / "f.txt").is_file()

    memory = ok(cli(repo, data_dir, "task", "memory", tid))
    assert memory.startswith(f"# Memory of {tid}: git flow\n")
    assert ok(cli(repo, data_dir, "task", "memory", tid, "--plan")).startswith(f"# Plan for {tid}: git flow\n")

    shown = ok(cli(repo, data_dir, "task", "show", tid))
    for part in (task["branch"], "target", "main", "integrated as", main_after[:12], "integrated"):
        assert part in shown, part

    ok(cli(repo, data_dir, "task", "rm", "--force", "--delete-branch", tid))
    assert not Path(task["checkoutPath"]).exists()
    assert git(repo, "branch", "--list", task["branch"]) == "", "--delete-branch left the branch"
    gone = cli(repo, data_dir, "task", "path", tid)
    assert gone.returncode == 1 and "no longer exists" in gone.stderr and "removed" in gone.stderr
    unknown = cli(repo, data_dir, "task", "path", "t-000000")
    assert (unknown.returncode, unknown.stderr) == (1, "dockyard: task 't-000000' not found\n")


def test_diff_on_a_terminal_is_highlighted_and_a_hostile_name_is_defused(repo: Path, data_dir: Path) -> None:
    tid = new_task(repo, data_dir, "terminal")["id"]
    evil = "printf 'x\\n' > \"$(printf 'e\\033]0;pwned\\007.txt')\" && git add -A && git commit -qm evil"
    ok(cli(repo, data_dir, "task", "exec", tid, "--", "sh", "-c", evil))

    shown = on_terminal(repo, data_dir, "task", "diff", tid)
    assert "\x1b[" in shown, "no highlighting on a terminal"
    assert "e^[]0;pwned^G.txt" in shown and "\x1b]0;pwned" not in shown and "\x07" not in shown
    piped = ok(cli(repo, data_dir, "task", "diff", tid, "--json"))
    assert "e\x1b]0;pwned\x07.txt" in [f["path"] for f in json.loads(piped)["files"]]
    ok(cli(repo, data_dir, "task", "rm", "--force", tid))


def test_conflict_exits_1_with_the_files_and_changes_nothing(repo: Path, data_dir: Path) -> None:
    tid = new_task(repo, data_dir, "conflicting")["id"]
    ok(cli(repo, data_dir, "task", "exec", tid, "--", "sh", "-c", "echo task > README.md && git commit -qam task"))
    (repo / "README.md").write_text("user\n")
    git(repo, "commit", "-q", "-am", "user")
    main_before = git(repo, "rev-parse", "main").strip()

    proc = cli(repo, data_dir, "task", "integrate", tid)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout == "README.md\n"
    assert f"integrating {tid} conflicts in 1 file(s)" in proc.stderr

    assert git(repo, "rev-parse", "main").strip() == main_before
    assert (repo / "README.md").read_text() == "user\n"
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    listed = {t["id"]: t for t in json.loads(ok(cli(repo, data_dir, "task", "ls", "--json")))}
    assert listed[tid]["state"] == "conflicted"
    assert "conflicted" in ok(cli(repo, data_dir, "task", "show", tid))
    ok(cli(repo, data_dir, "task", "rm", "--force", tid))
    branch = listed[tid]["branch"]
    assert git(repo, "branch", "--list", branch).strip() == branch, "the branch must stay for a merge by hand"


def test_new_from_a_ref_and_uncommitted_changes(repo: Path, data_dir: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "feature.txt").write_text("feature\n")
    git(repo, "add", "feature.txt")
    git(repo, "commit", "-q", "-m", "feature")
    (repo / "README.md").write_text("# test, edited\n")  # uncommitted
    (repo / "new.txt").write_text("untracked\n")

    out = ok(cli(repo, data_dir, "task", "new", "from main", "--image", SANDBOX, "--from", "main"))
    assert f"from main ({first[:12]})" in out and "checkout " in out
    assert "NOT carried" in out and "--include-uncommitted" in out
    tid = out.split()[1]
    checkout = Path(ok(cli(repo, data_dir, "task", "path", tid)).strip())
    assert not (checkout / "feature.txt").exists() and not (checkout / "new.txt").exists()
    assert (checkout / "README.md").read_text() == "# test\n"

    carried = new_task(repo, data_dir, "carried", "--include-uncommitted")
    assert carried["uncommitted"] is True and carried["target"] == "feature"
    seen = ok(cli(repo, data_dir, "task", "exec", carried["id"], "--", "cat", "README.md", "new.txt", "feature.txt"))
    assert seen == "# test, edited\nuntracked\nfeature\n"

    bad = cli(repo, data_dir, "task", "new", "bad ref", "--image", SANDBOX, "--from=--upload-pack=x")
    assert bad.returncode == 1 and "baseRef" in bad.stderr
    for task_id in (tid, carried["id"]):
        ok(cli(repo, data_dir, "task", "rm", "--force", task_id))
