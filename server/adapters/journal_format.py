"""On-disk format of the journal: records, their CRC, snapshots, and the line scanner.

Kept apart from ``journal.py`` (which owns locking and files) so the rules that decide what is
"torn" and what is "corrupt" can be read, and tested, in one place.

A record is one line of canonical JSON (sorted keys, no spaces, UTF-8) terminated by ``\\n``::

    {"crc":"1a2b3c4d","data":{...},"kind":"task.created","seq":7,"ts":"2025-01-01T00:00:00.000000Z"}

``crc`` is ``zlib.crc32`` of the canonical JSON of the record *without* ``crc``. Checking it on the
parsed object (not on the raw bytes) means a line is valid exactly when its content is intact.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dockyard.server.errors import JournalCorrupt

RECORD_KEYS = frozenset({"seq", "ts", "kind", "data", "crc"})
SNAPSHOT_KEYS = frozenset({"seq", "state", "crc"})


@dataclass(frozen=True, slots=True)
class Record:
    """One journal entry. ``data`` is whatever the caller appended (already redacted by it)."""

    seq: int
    ts: str
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Torn:
    """Damaged bytes at the very end of the journal: a crash mid-write, safe to set aside."""

    offset: int
    raw: bytes
    detail: str


@dataclass(frozen=True, slots=True)
class Scan:
    """Result of scanning a byte range: good records (with their start offsets) and where they end."""

    records: list[tuple[int, Record]]
    good_end: int
    torn: Torn | None


def canonical(obj: Any) -> bytes:
    """The one serialisation the CRC is computed over (and the one we write)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def crc_of(obj: Any) -> str:
    return f"{zlib.crc32(canonical(obj)) & 0xFFFFFFFF:08x}"


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_record(rec: Record) -> bytes:
    """Serialise ``rec`` as one ``\\n``-terminated line; raises before anything is written if not JSON."""
    body: dict[str, Any] = {"seq": rec.seq, "ts": rec.ts, "kind": rec.kind, "data": rec.data}
    return canonical({**body, "crc": crc_of(body)}) + b"\n"


def _checked(obj: Any, keys: frozenset[str], what: str) -> dict[str, Any]:
    """Verify the key set and the CRC of a decoded record or snapshot; return it without ``crc``."""
    if not isinstance(obj, dict) or set(obj) != keys:
        got = sorted(obj) if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(f"not a {what} (expected keys {sorted(keys)}, got {got})")
    body = {k: v for k, v in obj.items() if k != "crc"}
    expected = crc_of(body)
    if obj["crc"] != expected:
        raise ValueError(f"crc mismatch (stored {obj['crc']!r}, computed {expected!r})")
    seq = body["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError(f"bad seq {seq!r}")
    return body


def decode_line(raw: bytes) -> Record:
    """Parse one line (without its ``\\n``); ``ValueError`` says what is wrong with it."""
    body = _checked(json.loads(raw.decode("utf-8")), RECORD_KEYS, "journal record")
    if body["seq"] < 1:
        raise ValueError(f"bad seq {body['seq']!r}")
    if not isinstance(body["ts"], str) or not isinstance(body["kind"], str):
        raise ValueError("ts and kind must be strings")
    if not isinstance(body["data"], dict):
        raise ValueError("data must be an object")
    return Record(seq=body["seq"], ts=body["ts"], kind=body["kind"], data=body["data"])


def scan(data: bytes, base: int, prev_seq: int, path: str) -> Scan:
    """Split ``data`` (file bytes starting at offset ``base``) into records.

    A bad or unterminated line with nothing after it is a torn tail (returned, not raised);
    a bad line followed by anything is damage in the middle: ``JournalCorrupt``, nothing dropped.
    Seqs must strictly increase after ``prev_seq``.
    """
    records: list[tuple[int, Record]] = []
    pos, last = 0, prev_seq
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            return Scan(records, base + pos, Torn(base + pos, data[pos:], "last line has no newline"))
        try:
            rec = decode_line(data[pos:nl])
        except ValueError as exc:
            if nl + 1 < len(data):
                raise JournalCorrupt(path, base + pos, f"bad line: {exc}") from None
            return Scan(records, base + pos, Torn(base + pos, data[pos:], f"bad last line: {exc}"))
        if rec.seq <= last:
            raise JournalCorrupt(path, base + pos, f"seq {rec.seq} does not follow seq {last}")
        records.append((base + pos, rec))
        last, pos = rec.seq, nl + 1
    return Scan(records, base + pos, None)


def encode_snapshot(seq: int, state: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {"seq": seq, "state": state}
    return canonical({**body, "crc": crc_of(body)}) + b"\n"


def decode_snapshot(raw: bytes, path: str) -> tuple[int, dict[str, Any]]:
    """Parse a snapshot; any damage is ``JournalCorrupt`` (a renamed snapshot was complete)."""
    try:
        body = _checked(json.loads(raw.decode("utf-8")), SNAPSHOT_KEYS, "snapshot")
        if not isinstance(body["state"], dict):
            raise ValueError("state must be an object")
    except ValueError as exc:
        raise JournalCorrupt(path, 0, f"bad snapshot: {exc}") from None
    return body["seq"], body["state"]
