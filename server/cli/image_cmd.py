"""``dockyard image build [--force] [--test-image]``: build in this process, a spinner showing the latest line."""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from dockyard.server.adapters.docker_engine import connect
from dockyard.server.cli.common import stdout_console
from dockyard.server.images.build import ensure_sandbox_image, ensure_test_image, sandbox_tag, test_tag

STEP = re.compile(r"^\[\d+/\d+\]")  # milestone lines ("[2/3] importing…") stay on screen


def is_milestone(line: str) -> bool:
    """Lines worth keeping above the spinner: numbered steps and the final verdicts."""
    text = line.strip()
    return bool(STEP.match(text)) or " ready (" in text or "is present" in text or text.lower().startswith("error")


class BuildView:
    """The progress callback: milestones printed, every other line shown in the spinner's status."""

    def __init__(self, console: Console, status_update: Callable[[str], object] | None = None) -> None:
        self.console = console
        self.update = status_update
        self.lines = 0

    def __call__(self, line: str) -> None:
        line = line.rstrip()
        if not line:
            return
        self.lines += 1
        if is_milestone(line) or self.update is None:
            self.console.print(escape(line))
        if self.update is not None:
            self.update(f"[bold]building[/] {escape(line[-120:])}")


def cmd_build(args: argparse.Namespace) -> int:
    console = stdout_console()
    ensure = ensure_test_image if args.test_image else ensure_sandbox_image
    tag = test_tag() if args.test_image else sandbox_tag()
    client = connect()
    started = time.monotonic()
    if console.is_terminal:
        with console.status(f"[bold]building[/] {escape(tag)}…", spinner="dots") as status:
            ident = ensure(client, BuildView(console, status.update), force=args.force)
    else:  # no terminal to redraw: every line, plainly
        ident = ensure(client, BuildView(console), force=args.force)
    short = ident.removeprefix("sha256:")[:12]
    console.print(f"[green]✓[/] {escape(tag)} {short} ({time.monotonic() - started:.0f} s)")
    return 0
