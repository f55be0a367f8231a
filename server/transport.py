"""LSP base-protocol framing with limits: pygls has no frame cap and drops malformed envelopes silently.

Here a frame over the cap is read off and refused (-32600), bad JSON gets -32700, a non-request gets
-32600, params that pygls cannot structure get -32602; the daemon keeps serving after each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from dockyard.protocol.errors import ErrorCode

log = logging.getLogger(__name__)
DEFAULT_MAX_FRAME = 16 * 1024 * 1024
MAX_HEADER_LINE = 8192
_DISCARD_CHUNK = 1 << 20

ReadLine = Callable[[], Awaitable[bytes]]
ReadExactly = Callable[[int], Awaitable[bytes]]


class FrameReader:
    def __init__(
        self,
        readline: ReadLine,
        read: ReadExactly,
        send: Callable[[dict[str, Any]], None],
        handle: Callable[[bytes], None],
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self._readline, self._read, self._send, self._handle = readline, read, send, handle
        self.max_frame = max_frame

    def _error(self, msg_id: Any, code: ErrorCode, message: str) -> None:
        self._send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": int(code), "message": message}})

    async def _headers(self) -> dict[str, str] | None:
        headers: dict[str, str] = {}
        while True:
            line = await self._readline()
            if not line:
                return None
            if len(line) > MAX_HEADER_LINE:
                self._error(None, ErrorCode.INVALID_REQUEST, "header line too long")
                continue
            text = line.decode("ascii", "replace").strip()
            if not text:
                if headers:
                    return headers
                continue
            name, _, value = text.partition(":")
            headers[name.strip().lower()] = value.strip()

    async def run(self) -> None:
        """Serve frames until end of input."""
        while (headers := await self._headers()) is not None:
            raw_length = headers.get("content-length", "")
            if not raw_length.isdigit():
                self._error(None, ErrorCode.INVALID_REQUEST, "missing or invalid Content-Length header")
                continue
            length = int(raw_length)
            if length > self.max_frame:
                if not await self._discard(length):
                    return
                self._error(
                    None, ErrorCode.INVALID_REQUEST, f"frame of {length} bytes exceeds the {self.max_frame} cap"
                )
                continue
            body = await self._read(length)
            if len(body) < length:
                return
            self._dispatch(body)

    async def _discard(self, length: int) -> bool:
        while length > 0:
            chunk = await self._read(min(length, _DISCARD_CHUNK))
            if not chunk:
                return False
            length -= len(chunk)
        return True

    def _dispatch(self, body: bytes) -> None:
        try:
            envelope = json.loads(body)
        except ValueError as exc:
            self._error(None, ErrorCode.PARSE_ERROR, f"invalid JSON: {exc}")
            return
        if (
            not isinstance(envelope, dict)
            or envelope.get("jsonrpc") != "2.0"
            or not ("method" in envelope or "id" in envelope)
        ):
            msg_id = envelope.get("id") if isinstance(envelope, dict) else None
            self._error(msg_id, ErrorCode.INVALID_REQUEST, "not a JSON-RPC 2.0 message")
            return
        try:
            self._handle(body)
        except Exception as exc:  # pygls could not structure it: answer instead of hanging the client
            log.warning("message refused: %s", exc)
            if "method" in envelope and "id" in envelope:
                self._error(envelope["id"], ErrorCode.INVALID_PARAMS, f"invalid params: {exc}")
