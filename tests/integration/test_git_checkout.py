"""The task checkout shares no file with the user's repository (hard links would hand the user's object
files to the task's uid, which could then rewrite them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import GitDock

pytestmark = pytest.mark.docker


def _inodes(root: Path) -> dict[tuple[int, int], Path]:
    found = {}
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            info = path.lstat()
            found[(info.st_dev, info.st_ino)] = path
    return found


def test_checkout_objects_are_copies_not_hard_links_and_the_task_cannot_touch_the_users(git_dock: GitDock) -> None:
    task = git_dock.task("inode check")
    checkout = Path(task["checkoutPath"])
    user_objects = _inodes(git_dock.workspace / ".git" / "objects")
    task_objects = _inodes(checkout / ".git" / "objects")
    assert user_objects and task_objects
    shared = set(user_objects) & set(task_objects)
    assert not shared, f"hard-linked into the task: {[str(user_objects[i]) for i in shared][:5]}"
    # and a hostile rewrite of every object file the task can see leaves the user's repository intact
    script = (
        "find .git/objects -type f -exec chmod u+w {} + && "
        "find .git/objects -type f -exec sh -c 'echo x > \"$1\"' _ {} \\;"
    )
    result = git_dock.exec(task["id"], ["sh", "-c", script])
    assert result["exitCode"] == 0, result["stderr"]
    fsck = os.popen(f"git -C {git_dock.workspace} fsck --strict 2>&1; echo rc=$?").read()
    assert fsck.strip().endswith("rc=0"), fsck
