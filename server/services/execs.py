"""Run a command in a task: output streamed as it comes, exit code at the end, killable by timeout or cancel."""

from __future__ import annotations

import codecs
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dockyard.protocol.exec import ExecParams, ExecResult
from dockyard.server.adapters.docker_exec import STDERR, ExecAdapter
from dockyard.server.services.notifier import Notifier
from dockyard.server.services.tasks import TaskService

RESULT_CAP_BYTES = 1 << 20  # per stream, in the reply; notifications carry everything


def argv_of(command: list[str] | str) -> list[str]:
    """A string runs under /bin/sh -c; a list is the argv itself."""
    return ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)


@dataclass
class _Capture:
    """Per-stream incremental UTF-8 decoding (a multibyte char may straddle two frames) and a capped copy."""

    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    kept: list[str] = field(default_factory=list)
    size: int = 0
    truncated: bool = False

    def feed(self, data: bytes, final: bool = False) -> str:
        text = self.decoder.decode(data, final)
        if self.size < RESULT_CAP_BYTES:
            room = RESULT_CAP_BYTES - self.size
            self.kept.append(text[:room])
            self.size += min(len(text), room)
            self.truncated |= len(text) > room
        else:
            self.truncated |= bool(text)
        return text


class ExecService:
    def __init__(
        self, tasks: TaskService, execs: ExecAdapter, notifier: Notifier, after: Callable[[str], None] | None = None
    ) -> None:
        self.tasks = tasks
        self.execs = execs
        self.notifier = notifier
        self.after = after  # e.g. sync the task branch if the command committed

    def run(self, params: ExecParams, cancel: threading.Event | None = None) -> ExecResult:
        task, container_id = self.tasks.running_container(params.task_id, "exec in")
        exec_id = params.exec_id or "e-" + secrets.token_hex(4)
        started = time.monotonic()
        stream = self.execs.start_exec(
            container_id,
            exec_id,
            argv_of(params.command),
            env=params.env or {},
            workdir=params.cwd,
            stdin=params.stdin is not None,
        )
        why: dict[str, bool] = {}
        stop, cancel_event = threading.Event(), cancel or threading.Event()

        def killer() -> None:
            cancelled = _wait_either(cancel_event, stop, params.timeout_s)
            if stop.is_set():
                return
            why["cancelled" if cancelled else "timed_out"] = True
            self.execs.kill_exec(container_id, exec_id)

        watcher = threading.Thread(target=killer, name=f"exec-kill-{exec_id}", daemon=True)
        watcher.start()
        try:
            if params.stdin is not None:
                stream.send_stdin(params.stdin.encode())
            out, err = self._pump(task.id, exec_id, stream.chunks())
            exit_code = stream.exit_code()
        finally:
            stop.set()
            stream.close()
        self.notifier.exec_exited(exec_id, exit_code)
        if self.after is not None:
            self.after(task.id)
        return ExecResult(
            exec_id=exec_id,
            exit_code=exit_code,
            duration_ms=int((time.monotonic() - started) * 1000),
            truncated=out.truncated or err.truncated,
            stdout="".join(out.kept),
            stderr="".join(err.kept),
            timed_out=why.get("timed_out", False),
            cancelled=why.get("cancelled", False),
        )

    def _pump(self, task_id: str, exec_id: str, chunks: Iterable[tuple[int, bytes]]) -> tuple[_Capture, _Capture]:
        out, err, seq = _Capture(), _Capture(), 0
        for stream_no, data in chunks:
            name, cap = ("stderr", err) if stream_no == STDERR else ("stdout", out)
            text = cap.feed(data)
            if text:
                seq += 1
                self.notifier.output(task_id, exec_id, name, text, seq)
        for name, cap in (("stdout", out), ("stderr", err)):
            tail = cap.feed(b"", final=True)
            if tail:
                seq += 1
                self.notifier.output(task_id, exec_id, name, tail, seq)
        return out, err


def _wait_either(cancel: threading.Event, stop: threading.Event, timeout_s: float | None) -> bool:
    """Wait until cancel, stop, or the timeout; True when it was cancel."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while not stop.is_set():
        if cancel.wait(0.05):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
    return False
