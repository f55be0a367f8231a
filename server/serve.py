"""``dockyard serve --stdio``: one daemon process per client, speaking LSP framing on stdin/stdout."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from pygls.io_ import StdoutWriter

from dockyard.server.app import DockyardServer
from dockyard.server.transport import DEFAULT_MAX_FRAME, FrameReader

log = logging.getLogger(__name__)


def serve_stdio(
    workspace: Path | None = None,
    max_frame: int = DEFAULT_MAX_FRAME,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> int:
    """Serve until stdin closes or the client sends ``exit``. With ``workspace`` the journal opens (and a
    corrupt one fails) before the first message; otherwise at ``initialize`` from its rootUri."""
    server = DockyardServer(workspace)
    if workspace is not None:
        server.open_workspace(workspace)
    source = stdin or sys.stdin.buffer
    server.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
    io_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stdin")

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server.notifier.loop = loop

        def send(message: dict[str, Any]) -> None:
            server.protocol._send_data(message)

        def handle(body: bytes) -> None:
            server.protocol.handle_message(json.loads(body, object_hook=server.protocol.structure_message))

        reader = FrameReader(
            readline=lambda: loop.run_in_executor(io_pool, source.readline),
            read=lambda n: loop.run_in_executor(io_pool, source.read, n),
            send=send,
            handle=handle,
            max_frame=max_frame,
        )
        await reader.run()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, BrokenPipeError):
        pass
    finally:
        if server.runtime is not None:
            server.runtime.close()
        server.pool.shutdown(wait=False, cancel_futures=True)
        io_pool.shutdown(wait=False, cancel_futures=True)
    return 0
