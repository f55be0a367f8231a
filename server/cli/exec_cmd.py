"""``dockyard task exec ID -- CMD...``: output streamed live from ``dockyard/output``, the command's exit code."""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

from dockyard.protocol import methods as m
from dockyard.protocol.errors import ErrorCode
from dockyard.server.cli.common import daemon
from dockyard.server.cli.rpc import DaemonClient, Message, RpcError

FLUSH_WAIT_S = 5.0  # after the reply, how long to wait for execExited (all output precedes it)
FOREVER_S = 365 * 86400.0
CANCEL_WAIT_S = 30.0
EXIT_INTERRUPTED = 130


class ExecStream:
    """A notification listener: writes one exec's output to ``out``/``err`` as it arrives."""

    def __init__(self, exec_id: str, out: IO[str], err: IO[str]) -> None:
        self.exec_id = exec_id
        self.out = out
        self.err = err
        self.exited = threading.Event()
        self.exit_code: int | None = None
        self.chunks = 0

    def __call__(self, message: Message) -> None:
        params = message.get("params")
        if not isinstance(params, dict) or params.get("execId") != self.exec_id:
            return
        if message.get("method") == m.OUTPUT:
            stream = self.err if params.get("stream") == "stderr" else self.out
            stream.write(str(params.get("data", "")))
            stream.flush()
            self.chunks += 1
        elif message.get("method") == m.EXEC_EXITED:
            self.exit_code = params.get("exitCode")
            self.exited.set()


@dataclass
class ExecOutcome:
    result: dict[str, Any]
    wall_ms: float  # request sent -> reply received, as the client saw it
    cancelled: bool = False

    @property
    def exit_code(self) -> int:
        return int(self.result.get("exitCode", 1))


def exec_params(task_id: str, command: list[str] | str, cwd: str | None, timeout_s: float | None) -> dict[str, Any]:
    params: dict[str, Any] = {"taskId": task_id, "command": command, "execId": "cli-" + secrets.token_hex(6)}
    if cwd:
        params["cwd"] = cwd
    if timeout_s is not None:
        params["timeoutS"] = timeout_s
    return params


def _await_reply(client: DaemonClient, msg_id: int, timeout_s: float | None) -> tuple[dict[str, Any], bool]:
    """The exec's result; on Ctrl-C send ``$/cancelRequest`` and return what the cancelled exec ended with."""
    limit = FOREVER_S if timeout_s is None else timeout_s + 120
    try:
        return dict(client.response(msg_id, timeout=limit)), False
    except KeyboardInterrupt:
        sys.stderr.write("\ndockyard: cancelling…\n")
        sys.stderr.flush()
        client.cancel(msg_id)
    try:
        return dict(client.response(msg_id, timeout=CANCEL_WAIT_S)), True
    except RpcError as exc:
        if exc.code == ErrorCode.REQUEST_CANCELLED:
            data = exc.data if isinstance(exc.data, dict) else {}
            return {**data, "cancelled": True}, True
        raise


def run_exec(
    client: DaemonClient,
    params: dict[str, Any],
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> ExecOutcome:
    """Run one exec, streaming its output to ``out``/``err`` (default: this process's stdout/stderr)."""
    stream = ExecStream(str(params["execId"]), out or sys.stdout, err or sys.stderr)
    remove = client.add_listener(stream)
    try:
        started = time.monotonic()
        msg_id = client.send_request(m.EXEC, params)
        result, cancelled = _await_reply(client, msg_id, params.get("timeoutS"))
        wall_ms = (time.monotonic() - started) * 1000
        stream.exited.wait(0 if cancelled else FLUSH_WAIT_S)
    finally:
        remove()
    return ExecOutcome(result=result, wall_ms=wall_ms, cancelled=cancelled)


def exit_status(code: int) -> int:
    """A process exit status for ``code`` (what a shell would show); out-of-range codes become 1."""
    return code if 0 <= code <= 255 else 1


def cmd_exec(args: argparse.Namespace) -> int:
    params = exec_params(args.task_id, list(args.command), args.cwd, args.timeout)
    with daemon(args) as client:
        outcome = run_exec(client, params)
    if outcome.cancelled:
        return EXIT_INTERRUPTED
    if outcome.result.get("timedOut"):
        sys.stderr.write(f"dockyard: timed out after {args.timeout:g} s; the command was killed\n")
    return exit_status(outcome.exit_code)
