"""Task memory: MEMORY.md and PLAN.md tracked on the task branch, mirrored for the editor.

The checkout is written by the container, so reading it is hostile input: every path component is
opened with O_NOFOLLOW (a symlinked MEMORY.md or .dockyard/ is not read), only regular files, capped.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MEMORY_DIR = ".dockyard/task"
MEMORY_FILES = ("MEMORY.md", "PLAN.md")
MIRROR_CAP_BYTES = 1 << 20

_TEMPLATES = {
    "MEMORY.md": "# Memory of {task_id}: {title}\n\nWhat this task has learnt, decided and left to do. Kept on the\n"
    "task branch, so it travels with the code and its history.\n",
    "PLAN.md": "# Plan for {task_id}: {title}\n\n- [ ] describe the first step here\n",
}


def write_templates(checkout: Path, task_id: str, title: str) -> None:
    """This task's own memory files, in a fresh checkout (before any container saw it).

    The start commit may come from another task (a subtask starts from its parent's branch), so whatever
    it has at these paths is replaced, never written through: a committed symlink (``MEMORY.md`` or
    ``.dockyard/task`` pointing at a host path) must not make the host write outside the checkout.
    """
    folder = checkout
    for part in MEMORY_DIR.split("/"):
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            folder.unlink()
        folder.mkdir(exist_ok=True)
    for name, template in _TEMPLATES.items():
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.is_symlink() or target.exists():
            target.unlink()
        data = template.format(task_id=task_id, title=title.replace("\n", " ")).encode()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)


def read_untrusted(root: Path, relative: str, cap: int = MIRROR_CAP_BYTES) -> bytes | None:
    """The file's bytes if every component is a real directory/regular file (no symlinks) and it fits the cap."""
    flags_dir = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    parts = relative.split("/")
    fds: list[int] = []
    try:
        fds.append(os.open(root, os.O_RDONLY | os.O_DIRECTORY))
        for part in parts[:-1]:
            fds.append(os.open(part, flags_dir, dir_fd=fds[-1]))
        fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fds[-1])
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > cap:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(cap + 1)
        return data if len(data) <= cap else None
    except OSError:
        return None
    finally:
        for fd in reversed(fds):
            os.close(fd)


def mirror(checkout: Path, target_dir: Path) -> list[str]:
    """Copy the memory files to ``target_dir`` (atomically each) when they changed; returns what changed."""
    changed = []
    for name in MEMORY_FILES:
        data = read_untrusted(checkout, f"{MEMORY_DIR}/{name}")
        if data is None:
            continue
        target = target_dir / name
        if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
            continue
        target_dir.mkdir(parents=True, exist_ok=True)
        temp = target_dir / f".{name}.tmp"
        temp.write_bytes(data)
        os.replace(temp, target)
        changed.append(name)
    return changed
