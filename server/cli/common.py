"""What every client command shares: the daemon connection, error wording, consoles, JSON output."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from rich.console import Console

from dockyard.server.cli.errors import CliError
from dockyard.server.cli.rpc import DaemonClient, RpcError

DAEMON_LOG_TAIL = 4000  # bytes of the daemon's stderr shown when it fails


def stdout_console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def print_json(obj: Any, stream: IO[str] | None = None) -> None:
    out = stream or sys.stdout
    out.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    out.flush()


def workspace_of(args: argparse.Namespace) -> Path:
    """The ``--workspace`` directory (default: the current one), which must exist."""
    raw = getattr(args, "workspace", None)
    path = Path(raw).expanduser() if raw else Path.cwd()
    if not path.is_dir():
        raise CliError(f"workspace {path} is not a directory")
    return path.resolve()


def daemon_command(debug: bool) -> list[str]:
    level = "info" if debug else "warning"
    return [sys.executable, "-m", "dockyard.server", "serve", "--stdio", "--log-level", level]


def _dump_log(log: IO[bytes] | None) -> None:
    if log is None:
        return
    log.flush()
    log.seek(0, 2)
    size = log.tell()
    log.seek(max(0, size - DAEMON_LOG_TAIL))
    text = log.read().decode("utf-8", "replace").strip()
    if text:
        sys.stderr.write(f"--- daemon stderr (last {DAEMON_LOG_TAIL} bytes) ---\n{text}\n---\n")


@contextlib.contextmanager
def daemon(
    args: argparse.Namespace, workspace: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[DaemonClient]:
    """A started daemon for ``--workspace`` (``env`` added to ours); its stderr is shown only if it fails."""
    debug = bool(getattr(args, "debug", False))
    root = workspace or workspace_of(args)
    with contextlib.ExitStack() as stack:
        log: IO[bytes] | None = None if debug else stack.enter_context(tempfile.TemporaryFile())
        client = DaemonClient(root, command=daemon_command(debug), env=env, stderr=log, new_session=True)
        stack.callback(client.close)
        try:
            client.start()
        except (RpcError, TimeoutError, OSError) as exc:
            client.close()
            _dump_log(log)
            detail = exc.message if isinstance(exc, RpcError) else str(exc)
            raise CliError(f"could not start the daemon for {root}: {detail}") from None
        try:
            yield client
        except RpcError:
            if client.closed:
                _dump_log(log)
            raise
