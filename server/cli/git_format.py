"""Pure formatting of the git layer's wire dicts (diffTask, integrateTask, the git fields of a task)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

MEMORY_PREFIX = ".dockyard/task/"  # the task's MEMORY.md / PLAN.md, tracked on its branch
SHORT = 12
# C0 controls but tab and newline, DEL, and the C1 range: what a terminal may act on.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _caret(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20 or code == 0x7F:
        return "^" + chr(code ^ 0x40)  # ^[ for ESC, ^M for CR, ^? for DEL, as cat -v and less show them
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """``text`` with control characters shown, not sent: for container-written text on a terminal."""
    return _CONTROL.sub(_caret, text)


def short(sha: Any) -> str:
    return str(sha or "")[:SHORT]


def count(n: int | None, sign: str) -> str:
    """``+3`` / ``-1``; ``bin`` for a binary file (git reports no line counts)."""
    return "bin" if n is None else f"{sign}{n}"


def diff_summary(diff: Mapping[str, Any]) -> Text:
    """``dockyard/x-t-1 -> main  2 ahead, 0 behind  3 files  +8 -0``."""
    files = diff.get("files") or []
    text = Text.assemble(
        (str(diff.get("branch", "")), "bold"),
        " → ",
        (str(diff.get("target", "")), "bold"),
        f"  {diff.get('ahead', 0)} ahead, {diff.get('behind', 0)} behind",
        f"  {len(files)} file{'' if len(files) == 1 else 's'}  ",
        (f"+{diff.get('insertions', 0)}", "green"),
        " ",
        (f"-{diff.get('deletions', 0)}", "red"),
    )
    if diff.get("behind"):
        text.append(f"  (the target moved on since {short(diff.get('base'))})", style="dim")
    return text


def files_table(files: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("+", justify="right", style="green", no_wrap=True)
    table.add_column("-", justify="right", style="red", no_wrap=True)
    table.add_column("FILE", overflow="fold")
    for entry in files:
        path = visible(str(entry.get("path", "")))
        table.add_row(
            count(entry.get("insertions"), "+"),
            count(entry.get("deletions"), "-"),
            Text(path, style="dim") if path.startswith(MEMORY_PREFIX) else path,
        )
    return table


def memory_note(files: Sequence[Mapping[str, Any]], keep_memory: bool) -> str | None:
    """A footnote when the diff includes the task's memory files, saying what integrate does with them."""
    if not any(str(f.get("path", "")).startswith(MEMORY_PREFIX) for f in files):
        return None
    if keep_memory:
        return f"{MEMORY_PREFIX} is the task's memory; integrate keeps it ([git] keep_memory_on_integrate = true)"
    return f"{MEMORY_PREFIX} is the task's memory; integrate leaves it out of the target"


def integration_lines(result: Mapping[str, Any]) -> list[Text]:
    """What ``task integrate`` reports: commit, target, and whether files on disk changed."""
    task = result.get("task") or {}
    commit, previous = str(result.get("commit", "")), str(result.get("previous", ""))
    target = str(result.get("target", ""))
    first = Text.assemble(
        "integrated ",
        (str(task.get("id", "?")), "bold"),
        " into ",
        (target, "bold"),
        f" ({result.get('strategy', '?')})",
    )
    if commit == previous:
        moved = Text(f"{target} already contained the task's work; it stays at {short(commit)}")
    else:
        moved = Text.assemble(f"{target}: {short(previous)} → ", (short(commit), "bold"), f"  commit {commit}")
    if result.get("updatedWorktree"):
        disk = Text(f"{target} is checked out: its worktree was updated")
    else:
        disk = Text(f"{target} is not checked out anywhere: only the branch moved", style="dim")
    return [first, moved, disk]


def created_git_lines(task: Mapping[str, Any], carried: bool, start: str | None = None) -> list[Text]:
    """After ``task new`` in a git workspace: branch, checkout, and what happened to uncommitted changes."""
    if not task.get("branch"):
        return []
    base = short(task.get("baseRef"))
    origin = f"{start} ({base})" if start else base
    branch = Text.assemble("branch ", (str(task["branch"]), "bold"), f" from {origin}")
    if task.get("target"):
        branch.append(f", integrates into {task['target']}")
    lines = [branch, Text(f"checkout {task.get('checkoutPath') or '-'}")]
    if task.get("uncommitted"):
        if carried:
            lines.append(Text("the workspace's uncommitted changes were carried into the task", style="cyan"))
        else:
            lines.append(
                Text(
                    "note: the workspace has uncommitted changes; they were NOT carried into the task "
                    "(use --include-uncommitted to carry them)",
                    style="yellow",
                )
            )
    return lines


def git_fields(task: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The git rows of ``task show``, only those present."""
    rows: list[tuple[str, str]] = []
    if task.get("branch"):
        rows.append(("branch", str(task["branch"])))
    if task.get("baseRef"):
        rows.append(("base", short(task["baseRef"])))
    if task.get("target"):
        rows.append(("target", str(task["target"])))
    if task.get("head"):
        rows.append(("head", short(task["head"])))
    if task.get("uncommitted") is not None:
        rows.append(("uncommitted", "yes (in the workspace at create)" if task["uncommitted"] else "no"))
    if task.get("integratedCommit"):
        rows.append(("integrated as", short(task["integratedCommit"])))
    if task.get("checkoutPath"):
        rows.append(("checkout", str(task["checkoutPath"])))
    return rows
