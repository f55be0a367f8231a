"""FrameReader on in-memory input: framing, the cap, bad frames, missing headers, truncated input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from dockyard.server.transport import MAX_HEADER_LINE, FrameReader

pytestmark = pytest.mark.timeout(10)


def frame(body: bytes | str, *, extra_headers: bytes = b"") -> bytes:
    data = body.encode() if isinstance(body, str) else body
    return b"Content-Length: %d\r\n" % len(data) + extra_headers + b"\r\n" + data


def message(obj: Any) -> bytes:
    return frame(json.dumps(obj))


class Harness:
    """A FrameReader over an asyncio.StreamReader fed with ``data`` then EOF; records what it sends/handles."""

    def __init__(self, data: bytes, *, max_frame: int = 1024, handle_error: Exception | None = None) -> None:
        self.stream = asyncio.StreamReader(limit=1 << 20)
        self.stream.feed_data(data)
        self.stream.feed_eof()
        self.sent: list[dict[str, Any]] = []
        self.handled: list[bytes] = []
        self.handle_error = handle_error
        self.reads: list[int] = []
        self.reader = FrameReader(self._readline, self._read, self.sent.append, self._handle, max_frame=max_frame)

    async def _readline(self) -> bytes:
        return await self.stream.readline()

    async def _read(self, n: int) -> bytes:
        """Like ``BufferedReader.read(n)`` on a pipe: n bytes, or fewer only at end of input."""
        self.reads.append(n)
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            return exc.partial

    def _handle(self, body: bytes) -> None:
        self.handled.append(body)
        if self.handle_error is not None:
            raise self.handle_error

    async def run(self) -> Harness:
        await asyncio.wait_for(self.reader.run(), 5)
        return self

    def codes(self) -> list[tuple[Any, int]]:
        return [(m["id"], m["error"]["code"]) for m in self.sent]


REQ = {"jsonrpc": "2.0", "id": 1, "method": "dockyard/listTasks", "params": {}}


async def test_well_formed_frames_are_handed_on_unchanged() -> None:
    second = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
    h = await Harness(message(REQ) + message(second)).run()
    assert [json.loads(b) for b in h.handled] == [REQ, second]
    assert h.sent == []


async def test_extra_headers_any_case_and_blank_lines_between_frames() -> None:
    body = json.dumps(REQ).encode()
    data = (
        b"\r\n"  # stray blank line before the first header block
        + b"content-length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(body)
        + body
        + b"CONTENT-LENGTH:%d\r\n\r\n" % len(body)
        + body
    )
    h = await Harness(data).run()
    assert h.handled == [body, body]
    assert h.sent == []


async def test_missing_content_length_is_32600_and_reading_goes_on() -> None:
    data = b"Content-Type: application/json\r\n\r\n" + message(REQ)
    h = await Harness(data).run()
    assert h.codes() == [(None, -32600)]
    assert "Content-Length" in h.sent[0]["error"]["message"]
    assert h.sent[0]["jsonrpc"] == "2.0"
    assert h.handled == [json.dumps(REQ).encode()]


@pytest.mark.parametrize("value", [b"", b"abc", b"-5", b"1e3", b"12 34"])
async def test_invalid_content_length_is_32600(value: bytes) -> None:
    h = await Harness(b"Content-Length: " + value + b"\r\n\r\n" + message(REQ)).run()
    assert h.codes()[0] == (None, -32600)
    assert h.handled[-1] == json.dumps(REQ).encode()


async def test_frame_over_the_cap_is_discarded_exactly_and_refused() -> None:
    big = json.dumps({**REQ, "params": {"pad": "x" * 4096}})
    h = await Harness(frame(big) + message(REQ), max_frame=1024).run()
    assert h.codes() == [(None, -32600)]
    assert "1024" in h.sent[0]["error"]["message"]
    # the big body was never handed on; the next frame was read from exactly the right place
    assert h.handled == [json.dumps(REQ).encode()]


async def test_discard_is_chunked_and_a_frame_at_the_cap_passes() -> None:
    body = json.dumps({**REQ, "params": {"pad": ""}})
    at_cap = json.dumps({**REQ, "params": {"pad": "y" * (1024 - len(body))}})
    assert len(at_cap) == 1024
    h = await Harness(frame(at_cap) + frame("z" * 1025), max_frame=1024).run()
    assert h.handled == [at_cap.encode()]
    assert h.codes() == [(None, -32600)]


async def test_truncated_body_ends_quietly() -> None:
    body = json.dumps(REQ).encode()
    data = message(REQ) + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
    h = await Harness(data).run()
    assert h.handled == [body]  # the complete first frame only
    assert h.sent == []  # nobody is left to answer: input ended


async def test_truncated_oversized_body_ends_quietly() -> None:
    h = await Harness(b"Content-Length: 5000\r\n\r\n" + b"x" * 100, max_frame=1024).run()
    assert h.handled == [] and h.sent == []


async def test_truncated_headers_and_empty_input_end_quietly() -> None:
    assert (await Harness(b"").run()).sent == []
    h = await Harness(b"Content-Length: 12\r\n").run()  # no blank line, no body
    assert h.handled == [] and h.sent == []
    h = await Harness(b"Content-Le").run()
    assert h.handled == [] and h.sent == []


async def test_malformed_json_is_32700() -> None:
    h = await Harness(frame(b'{"jsonrpc": "2.0", "id": 3,') + frame(b"\xff\xfe") + message(REQ)).run()
    assert h.codes() == [(None, -32700), (None, -32700)]
    assert h.handled == [json.dumps(REQ).encode()]


@pytest.mark.parametrize(
    ("envelope", "expected_id"),
    [
        ([REQ], None),  # a batch: not supported
        (42, None),
        ("text", None),
        (None, None),
        ({"id": 4, "method": "x"}, 4),  # no "jsonrpc"
        ({"jsonrpc": "1.0", "id": 5, "method": "x"}, 5),
        ({"jsonrpc": "2.0"}, None),  # neither method nor id
    ],
)
async def test_non_requests_are_32600_with_the_id_when_known(envelope: Any, expected_id: Any) -> None:
    h = await Harness(message(envelope)).run()
    assert h.codes() == [(expected_id, -32600)]
    assert h.handled == []


async def test_handle_failure_of_a_request_is_32602_with_its_id() -> None:
    h = await Harness(message(REQ), handle_error=ValueError("cannot structure")).run()
    assert h.codes() == [(1, -32602)]
    assert "cannot structure" in h.sent[0]["error"]["message"]


async def test_handle_failure_of_a_notification_is_not_answered() -> None:
    note = {"jsonrpc": "2.0", "method": "initialized", "params": 5}
    h = await Harness(message(note), handle_error=ValueError("bad")).run()
    assert h.handled and h.sent == []


async def test_overlong_header_line_is_32600_and_skipped() -> None:
    data = b"X-Junk: " + b"j" * MAX_HEADER_LINE + b"\r\n" + message(REQ)
    h = await Harness(data).run()
    assert h.codes() == [(None, -32600)]
    assert h.handled == [json.dumps(REQ).encode()]
