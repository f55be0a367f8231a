"""Daemon-internal commands in a task (git bundle, auto-commit, hooks): captured, capped, no notifications."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import BinaryIO

from dockyard.server.adapters.docker_exec import STDERR, ExecAdapter
from dockyard.server.errors import ResourceLimit

RESULT_CAP_BYTES = 1 << 20


@dataclass
class Captured:
    exit_code: int
    stdout: bytes
    stderr: str
    size: int


def capture(
    execs: ExecAdapter,
    container_id: str,
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    sink: BinaryIO | None = None,
    max_bytes: int = RESULT_CAP_BYTES,
) -> Captured:
    """Run a daemon-internal command in a task (no notifications): stdout to ``sink`` or memory, capped.

    Exceeding ``max_bytes`` kills the process: a task must not be able to fill the host's disk or memory.
    """
    key = "d-" + secrets.token_hex(4)
    stream = execs.start_exec(container_id, key, argv, env=env or {}, workdir="/workspace", stdin=stdin is not None)
    kept, errors, size = bytearray(), bytearray(), 0
    try:
        if stdin is not None:
            stream.send_stdin(stdin)
        for stream_no, data in stream.chunks():
            if stream_no == STDERR:
                errors += data[: max(0, 65536 - len(errors))]
                continue
            size += len(data)
            if size > max_bytes:
                execs.kill_exec(container_id, key)
                raise ResourceLimit(f"output of {argv[:3]} exceeded {max_bytes} bytes", {"limit": max_bytes})
            if sink is not None:
                sink.write(data)
            else:
                kept += data
        code = stream.exit_code()
    finally:
        stream.close()
    return Captured(code, bytes(kept), errors.decode("utf-8", "replace"), size)
